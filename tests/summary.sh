#!/usr/bin/env bash
# Adds up "name passed failed" lines from the given result files; a missing file means that
# whole part did not run, which counts as one failure.
p=0; f=0
for r in "$@"; do
  if [ ! -s "$r" ]; then echo "missing results: $r (that part did not run)"; f=$((f+1)); continue; fi
  while read -r _ a b; do p=$((p+a)); f=$((f+b)); done < "$r"
done
echo "$p passed, $f failed"
[ "$f" -eq 0 ]
