#!/bin/sh
# Seed corpora for the fuzz targets, under fuzz/corpus/TARGET/. Run from anywhere:
#
#   sh fuzz/seeds.sh
#   cargo +nightly fuzz run onnx_reader -- -max_total_time=180 -rss_limit_mb=2048 -timeout=20
#
# onnx_reader reads raw ONNX bytes: its seeds are the small fixture models. safetensors_header's raw
# form is a 0 byte then the file: its seeds are small safetensors files written here. onnx_pipeline and
# chain_spec are structure-aware (their input drives mutations of embedded fixtures), so any bytes are a
# valid input: their seeds are random bytes of 64 to 1024, which only start libFuzzer with inputs long
# enough for many mutations (it otherwise begins at 4 bytes and lengthens them slowly).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
corpus="$root/fuzz/corpus"

mkdir -p "$corpus/onnx_reader"
for f in "$root"/tests/data/*/model.onnx "$root"/tests/data/ops/*.onnx "$root"/tests/data/extra/*.onnx \
    "$root"/tests/data/import/*.legacy.onnx; do
    # keep libFuzzer's default -max_len small: skip the few fixtures over 64 KiB
    [ "$(wc -c <"$f")" -le 65536 ] || continue
    name=$(echo "${f#"$root"/tests/data/}" | tr / _)
    cp "$f" "$corpus/onnx_reader/$name"
done

# a safetensors file: 8-byte little-endian header length, the JSON header, the data
safetensors() { # NAME HEADER DATA_BYTES
    len=$(printf '%s' "$2" | wc -c)
    {
        printf '\000' # the raw form
        printf "$(printf '\\%03o' $((len & 255)) $((len >> 8 & 255)) 0 0 0 0 0 0)"
        printf '%s' "$2"
        head -c "$3" /dev/zero
    } >"$corpus/safetensors_header/$1"
}
mkdir -p "$corpus/safetensors_header"
safetensors f32 '{"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}' 24
safetensors two '{"__metadata__":{"format":"pt"},"0.bias":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"0.weight":{"dtype":"F64","shape":[2,1],"data_offsets":[8,24]}}' 24
safetensors empty '{}' 0
safetensors scalar '{"s":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}' 4
safetensors zero '{"z":{"dtype":"F32","shape":[0,5],"data_offsets":[0,0]}}' 0
safetensors int '{"i":{"dtype":"I64","shape":[1],"data_offsets":[0,8]}}' 8
for target in onnx_pipeline chain_spec; do
    mkdir -p "$corpus/$target"
    for n in 64 128 256 512 1024; do
        for k in 1 2 3; do
            head -c "$n" /dev/urandom >"$corpus/$target/random-$n-$k"
        done
    done
done
echo "seeds written under $corpus"
