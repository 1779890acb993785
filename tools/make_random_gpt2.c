/* Writes a GPT-2 checkpoint with deterministic random weights in the hub's layout
 * (config.json + model.safetensors, original key names), for benchmarks: real weights
 * cannot be downloaded on every machine, and speed does not depend on the values.
 *
 * usage: make_random_gpt2 OUT_DIR [--layers N] [--embd C] [--heads H] [--vocab V]
 *                          [--positions P] [--dtype F32|F16] [--seed S] */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "model/model.h"

static uint64_t rng_state;
static double uniform(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return (double)(z >> 11) / 9007199254740992.0;
}

typedef struct { char name[64]; int nd; long d0, d1; int kind; } tdesc; /* kind 0 normal, 1 ones, 2 zeros */

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help")) {
        fprintf(stderr, "usage: make_random_gpt2 OUT_DIR [--layers N] [--embd C] [--heads H] [--vocab V] [--positions P] [--dtype F32|F16] [--seed S]\n");
        return argc < 2 ? 2 : 0;
    }
    const char *out = argv[1];
    long L = 12, C = 768, H = 12, V = 50257, P = 1024, seed = 1234;
    const char *dtype = "F32";
    for (int i = 2; i + 1 < argc; i += 2) {
        long v = strtol(argv[i + 1], NULL, 10);
        if (!strcmp(argv[i], "--layers")) L = v;
        else if (!strcmp(argv[i], "--embd")) C = v;
        else if (!strcmp(argv[i], "--heads")) H = v;
        else if (!strcmp(argv[i], "--vocab")) V = v;
        else if (!strcmp(argv[i], "--positions")) P = v;
        else if (!strcmp(argv[i], "--seed")) seed = v;
        else if (!strcmp(argv[i], "--dtype")) dtype = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    int f16 = !strcmp(dtype, "F16");
    size_t esz = f16 ? 2 : 4;
    rng_state = (uint64_t)seed;
    if (mkdir(out, 0755) != 0 && errno != EEXIST) { perror(out); return 1; }

    size_t cap = 16 + 12 * (size_t)L, n = 0;
    tdesc *t = calloc(cap, sizeof *t);
    snprintf(t[n].name, 64, "wte.weight"); t[n].nd = 2; t[n].d0 = V; t[n++].d1 = C;
    snprintf(t[n].name, 64, "wpe.weight"); t[n].nd = 2; t[n].d0 = P; t[n++].d1 = C;
    for (long l = 0; l < L; l++) {
        struct { const char *s; int nd; long d0, d1; int kind; } parts[] = {
            {"ln_1.weight", 1, C, 0, 1}, {"ln_1.bias", 1, C, 0, 2}, {"attn.c_attn.weight", 2, C, 3 * C, 0},
            {"attn.c_attn.bias", 1, 3 * C, 0, 0}, {"attn.c_proj.weight", 2, C, C, 0}, {"attn.c_proj.bias", 1, C, 0, 0},
            {"ln_2.weight", 1, C, 0, 1}, {"ln_2.bias", 1, C, 0, 2}, {"mlp.c_fc.weight", 2, C, 4 * C, 0},
            {"mlp.c_fc.bias", 1, 4 * C, 0, 0}, {"mlp.c_proj.weight", 2, 4 * C, C, 0}, {"mlp.c_proj.bias", 1, C, 0, 0}};
        for (int p = 0; p < 12; p++) {
            snprintf(t[n].name, 64, "h.%ld.%s", l, parts[p].s);
            t[n].nd = parts[p].nd; t[n].d0 = parts[p].d0; t[n].d1 = parts[p].d1; t[n++].kind = parts[p].kind;
        }
    }
    snprintf(t[n].name, 64, "ln_f.weight"); t[n].nd = 1; t[n].d0 = C; t[n++].kind = 1;
    snprintf(t[n].name, 64, "ln_f.bias"); t[n].nd = 1; t[n].d0 = C; t[n++].kind = 2;

    size_t hcap = n * 160 + 64, hl = 0, off = 0;
    char *hdr = malloc(hcap);
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "{");
    for (size_t i = 0; i < n; i++) {
        size_t cnt = (size_t)t[i].d0 * (t[i].nd == 2 ? (size_t)t[i].d1 : 1), bytes = cnt * esz;
        if (t[i].nd == 2)
            hl += (size_t)snprintf(hdr + hl, hcap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%ld,%ld],\"data_offsets\":[%zu,%zu]}",
                                   i ? "," : "", t[i].name, dtype, t[i].d0, t[i].d1, off, off + bytes);
        else
            hl += (size_t)snprintf(hdr + hl, hcap - hl, "%s\"%s\":{\"dtype\":\"%s\",\"shape\":[%ld],\"data_offsets\":[%zu,%zu]}",
                                   i ? "," : "", t[i].name, dtype, t[i].d0, off, off + bytes);
        off += bytes;
    }
    hl += (size_t)snprintf(hdr + hl, hcap - hl, "}");
    while (hl % 8) hdr[hl++] = ' ';

    char path[4096];
    snprintf(path, sizeof path, "%s/model.safetensors.tmp", out);
    FILE *f = fopen(path, "wb");
    if (!f) { perror(path); return 1; }
    uint64_t hl64 = hl;
    fwrite(&hl64, 8, 1, f);
    fwrite(hdr, 1, hl, f);
    float *buf = malloc(sizeof(float) * 1 << 20);
    uint16_t *hb = malloc(sizeof(uint16_t) * 1 << 20);
    for (size_t i = 0; i < n; i++) {
        size_t cnt = (size_t)t[i].d0 * (t[i].nd == 2 ? (size_t)t[i].d1 : 1);
        /* std 0.02 like GPT-2's init, via a sum of uniforms (cheap and deterministic). */
        for (size_t done = 0; done < cnt;) {
            size_t k = cnt - done < (1u << 20) ? cnt - done : (1u << 20);
            for (size_t j = 0; j < k; j++) {
                if (t[i].kind == 1) buf[j] = 1.0f;
                else if (t[i].kind == 2) buf[j] = 0.0f;
                else buf[j] = (float)((uniform() + uniform() + uniform() - 1.5) * 0.04);
            }
            if (f16) {
                for (size_t j = 0; j < k; j++) hb[j] = seam_f32_to_f16(buf[j]);
                fwrite(hb, 2, k, f);
            } else fwrite(buf, 4, k, f);
            done += k;
        }
    }
    if (fclose(f) != 0) { perror(path); return 1; }
    char final[4096];
    snprintf(final, sizeof final, "%s/model.safetensors", out);
    if (rename(path, final) != 0) { perror(final); return 1; }
    snprintf(path, sizeof path, "%s/config.json", out);
    f = fopen(path, "w");
    fprintf(f, "{\n  \"model_type\": \"gpt2\",\n  \"architectures\": [\"GPT2LMHeadModel\"],\n  \"activation_function\": \"gelu_new\",\n"
               "  \"n_layer\": %ld,\n  \"n_embd\": %ld,\n  \"n_head\": %ld,\n  \"n_inner\": null,\n  \"n_positions\": %ld,\n"
               "  \"n_ctx\": %ld,\n  \"vocab_size\": %ld,\n  \"layer_norm_epsilon\": 1e-05,\n  \"bos_token_id\": 50256,\n"
               "  \"eos_token_id\": 50256,\n  \"scale_attn_weights\": true,\n  \"tie_word_embeddings\": true\n}\n",
            L, C, H, P, P, V);
    fclose(f);
    free(buf); free(hb); free(hdr); free(t);
    printf("%s: %ld layers, n_embd %ld, %ld heads, vocab %ld, %s\n", out, L, C, H, V, dtype);
    return 0;
}
