#!/usr/bin/env bash
# Runs every fuzz target of fuzz/ briefly: first over its saved corpus and regression
# inputs (fuzz/corpus/<target>/, fuzz/regressions/<target>/), then FUZZ_SECONDS (default
# 20) of new inputs. Exits non-zero if any target crashes, hangs (> 10 s an input) or
# uses more than 2 GB; libFuzzer prints the input and cargo-fuzz saves it under
# fuzz/artifacts/<target>/. Works on a stable toolchain (RUSTC_BOOTSTRAP=1 lets
# cargo-fuzz pass its flags; no sanitizer, so no nightly runtime is needed). Installs
# cargo-fuzz if it is missing. New inputs go to a temporary copy: the saved corpus is
# not changed.
set -euo pipefail
cd "$(dirname "$0")/../fuzz"
secs=${FUZZ_SECONDS:-20}
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
# The targets' scratch files (lbsim-fuzz-<pid>/) go here too, and are removed with it.
export TMPDIR=$scratch
flags=(--debug-assertions --sanitizer none)
cargo fuzz build "${flags[@]}"
failed=()
for t in $(cargo fuzz list); do
    mkdir -p "$scratch/corpus/$t"
    dirs=("$scratch/corpus/$t" "corpus/$t")
    [ -d "regressions/$t" ] && dirs+=("regressions/$t")
    echo "== $t: corpus, then ${secs}s of new inputs"
    if ! cargo fuzz run "${flags[@]}" "$t" "${dirs[@]}" -- \
        -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
        -print_final_stats=1 2>&1 | grep -v '^#[0-9]*	\(NEW\|REDUCE\|pulse\)'; then
        failed+=("$t")
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in ${failed[*]} (inputs under fuzz/artifacts/)" >&2
    exit 1
fi
echo "fuzz: every target ran clean"
