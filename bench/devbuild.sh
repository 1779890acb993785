set -e
F="-std=c11 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -O2 -g -pthread -Iinclude -Isrc"
mkdir -p /tmp/o
objs=""
for f in src/util/*.c src/format/*.c src/model/*.c src/tokenizer/*.c src/kernels/*.c src/graph/*.c src/sample/*.c src/quant/*.c; do
  [ -e "$f" ] || continue
  x=""
  case "$f" in *_avx2.c) x="-mavx2 -mfma -mf16c";; *_avx512.c) x="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c";; *_avx512vnni.c) x="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c -mavx512vnni";; *_amx.c) x="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mfma -mf16c -mavx512bf16 -mamx-tile -mamx-bf16";; esac
  o=/tmp/o/$(echo $f | tr / _).o
  gcc $F $x -c $f -o $o &
  objs="$objs $o"
done
wait
gcc $F -o /tmp/seam_bench bench/seam_bench.c $objs -lm
gcc -O2 -Iinclude -Isrc tools/make_random_gpt2.c src/model/model.c src/model/config.c src/format/safetensors.c src/util/error.c src/util/json.c -lm -o /tmp/mkrand 2>/dev/null || gcc -O2 -Iinclude -Isrc tools/make_random_gpt2.c $(ls /tmp/o/src_model_* /tmp/o/src_format_* /tmp/o/src_util_* /tmp/o/src_kernels_* /tmp/o/src_quant_* 2>/dev/null) -lm -pthread -o /tmp/mkrand
