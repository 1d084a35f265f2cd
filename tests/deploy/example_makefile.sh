#!/bin/sh
# examples/deploy/Makefile as the README uses it: `make run` builds the
# library and runs app.c against it; the same again builds nothing; with
# TARGET=hwacc it builds the library again (it depended on the model file
# alone, so the cpu library ran a second time), for hwacc.
#   example_makefile.sh SRC_DIR HATC MODEL WORK
set -eu
src=$1 hatc=$2 model=$3 out=$4
rm -rf "$out"
mk() {
  make -s -C "$src/examples/deploy" HATC="$hatc" OUT="$out" MODEL="$model" \
    SHAPES="--input-shape input=1,3,32,32" "$@" run 2>&1
}
fail() { echo "example_makefile: $*"; exit 1; }

first=$(mk)
echo "$first"
echo "$first" | grep -q "hatc compile: wrote" || fail "make run built no library"
echo "$first" | grep -q "^output 0" || fail "app printed no output"

again=$(mk)
echo "$again" | grep -q "hatc compile" && fail "make run rebuilt with nothing changed"

hwacc=$(mk TARGET=hwacc)
echo "$hwacc"
echo "$hwacc" | grep -q "hatc compile: wrote" || fail "TARGET=hwacc did not rebuild"
echo "$hwacc" | grep -q "^output 0" || fail "app printed no output on hwacc"
# hwacc's library carries the device model (C++): libstdc++ appears.
ldd "$out/libmodel.so" | grep -q libstdc++ || fail "the library is not hwacc's"
echo "example_makefile: ok"
