# glassgpt: a tiny GPT in C that you can watch learn and think.
# Run `make help` for the targets.

CC       ?= cc
# The optimised build is tuned for the machine it runs on; `make PORTABLE=1`
# builds for any x86-64 (one sanitizer build below is always portable).
ARCH     := $(if $(PORTABLE),,-march=native)
CFLAGS   ?= -O3
# Threads come from OpenMP. No fast-math, and no fused multiply-adds either:
# every a * b + c rounds twice, whether the compiler vectorises it or not, so
# a row computed alone, in a batch, with any number of threads or in the
# browser's WebAssembly gives the same bits.
CFLAGS   += $(ARCH) -fopenmp -ffp-contract=off -std=c11 -Wall -Wextra -Werror \
            -D_POSIX_C_SOURCE=200809L
SANFLAGS := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O1 -g -ffp-contract=off \
            -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# The portable sanitizer build runs the paths that any x86-64 and the
# browser take; the engine's own tests run once more under the sanitizers
# with this machine's vectors (AVX-512's masked loads, the transpositions in
# registers, the encoder's gathers) and OpenMP's threads, as shipped.
SANFLAGS_NATIVE := $(SANFLAGS) $(ARCH) -fopenmp
LDLIBS   := -lm
CLI_LIBS := -lmicrohttpd -pthread

LIB_SRC  := $(wildcard src/*.c)
CLI_SRC  := $(wildcard cli/*.c)
HEADERS  := $(wildcard src/*.h cli/*.h tests/*.h bench/*.h) build/flags
LIB_OBJ  := $(LIB_SRC:src/%.c=build/obj/%.o)
SAN_OBJ  := $(LIB_SRC:src/%.c=build/asan/obj/%.o)
SANN_OBJ := $(LIB_SRC:src/%.c=build/asan-native/obj/%.o)
FMA_OBJ  := $(LIB_SRC:src/%.c=build/fma/obj/%.o)

# The libFuzzer harnesses (fuzz/), under ASan + UBSan: see "fuzzers" below.
FUZZ_SECONDS ?= 60
FUZZ_BINS    := $(patsubst fuzz/%.c,build/fuzz/%,$(wildcard fuzz/fuzz_*.c))
FUZZ_FLAGS   := -std=c11 -Wall -Wextra -Werror -D_POSIX_C_SOURCE=200809L -O1 -g -ffp-contract=off \
                -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_SRC     := $(LIB_SRC) tests/ref_bpe.c cli/server.c

CORPUS_FILE := data/tinyshakespeare.txt
TOKENIZER   := models/tokenizer.bpe

.PHONY: all run test bench fuzz setup corpus help clean FORCE

# Data-parallel training over MPI (Debian's Open MPI): build/glassgpt-mpi is
# built when mpicc is there (make setup installs it), or with MPI=1.
MPICC := $(shell command -v mpicc 2> /dev/null)
MPI_BIN := $(if $(MPICC)$(MPI),build/glassgpt-mpi)

all: build/glassgpt build/libglassgpt.a build/web/glassgpt.wasm web/vendor/lit-html.js $(MPI_BIN)

help:
	@echo "glassgpt make targets:"
	@echo "  make run     install what is missing, build, get the corpus, train the"
	@echo "               tokenizer and the tiny and small models into models/ (once),"
	@echo "               show what they learned, and serve the walkthrough at"
	@echo "               http://127.0.0.1:8080/ (PORT=... to change; Ctrl-C stops)"
	@echo "  make test    run every test: unit, property and gradient tests, the engine"
	@echo "               against PyTorch's fixture, the same under AddressSanitizer +"
	@echo "               UBSan, the command line and the server end to end, native"
	@echo "               against WebAssembly, the page in Chromium, the WebGPU kernels and"
	@echo "               training on WebGPU against the engine, and each fuzzer briefly"
	@echo "  make fuzz    run each libFuzzer harness (tokenizer file, checkpoint, encode,"
	@echo "               BPE training, server) for FUZZ_SECONDS (default 60) and report"
	@echo "               runs and coverage; make test runs each for a few seconds"
	@echo "  make bench   time the tokenizer (against a naive trainer and sentencepiece),"
	@echo "               the engine (the machine's peak, a profile of a base step, and"
	@echo "               PyTorch on OpenBLAS in alternating pairs, and the engine built"
	@echo "               with fused multiply-adds against without), shards and MPI, the"
	@echo "               server (requests/s, and service beside slow clients) and the"
	@echo "               page in Chromium (its size, first render, training against native,"
	@echo "               and the engine on WebGPU against WebAssembly)"
	@echo "  make         build build/glassgpt, build/libglassgpt.a and build/web/glassgpt.wasm,"
	@echo "               vendor the page's lit-html from npm into web/vendor/, and build"
	@echo "               build/glassgpt-mpi where Open MPI's mpicc is (or with MPI=1)"
	@echo "  make setup   install missing Debian packages (apt-get)"
	@echo "  make corpus  put tinyshakespeare in data/ (CORPUS=path: a copy you have)"
	@echo "  make clean   remove build/, test-artifacts/ and web/vendor/"

# ---- the library and the command-line tool ----

# Everything is rebuilt when the compiler flags change (PORTABLE=1, say).
build/flags: FORCE
	@mkdir -p build
	@echo '$(CC) $(CFLAGS) | $(SANFLAGS_NATIVE)' | cmp -s - $@ || echo '$(CC) $(CFLAGS) | $(SANFLAGS_NATIVE)' > $@
FORCE:

build/obj/%.o: src/%.c $(HEADERS) | build/obj
	$(CC) $(CFLAGS) -c $< -o $@

build/libglassgpt.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

build/glassgpt: $(CLI_SRC) build/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) $(CLI_SRC) build/libglassgpt.a $(LDLIBS) $(CLI_LIBS) -o $@

build/glassgpt-mpi: $(CLI_SRC) build/libglassgpt.a $(HEADERS)
	OMPI_CC=$(CC) mpicc $(CFLAGS) -DGG_MPI $(CLI_SRC) build/libglassgpt.a $(LDLIBS) $(CLI_LIBS) -o $@

# The same library and tool under AddressSanitizer and UndefinedBehaviorSanitizer.
build/asan/obj/%.o: src/%.c $(HEADERS) | build/asan/obj
	$(CC) $(SANFLAGS) -c $< -o $@

build/asan/libglassgpt.a: $(SAN_OBJ)
	rm -f $@ && ar rcs $@ $^

build/asan/glassgpt: $(CLI_SRC) build/asan/libglassgpt.a $(HEADERS)
	$(CC) $(SANFLAGS) $(CLI_SRC) build/asan/libglassgpt.a $(LDLIBS) $(CLI_LIBS) -o $@

build/asan-native/obj/%.o: src/%.c $(HEADERS) | build/asan-native/obj
	$(CC) $(SANFLAGS_NATIVE) -c $< -o $@

build/asan-native/libglassgpt.a: $(SANN_OBJ)
	rm -f $@ && ar rcs $@ $^

build/obj build/asan/obj build/asan-native/obj build/fma/obj:
	mkdir -p $@

# The same engine as WebAssembly, for the page: Debian's clang, lld and
# wasi-libc, no emscripten. The exported functions are in wasm/exports.c.
# -fno-builtin-memset keeps short zeroing loops (a row of attention past
# the query) as vector loops, rather than calls to wasi-libc's scalar memset.
# The link has no -O: given one, clang runs Binaryen's wasm-opt wherever it
# is installed, on a module whose list of features --strip-all has removed,
# and wasm-opt then refuses its vector instructions.
#
# The page's files have a budget of bytes (make bench), so only the files
# whose loops the page waits on, the kernels, the encoder and the BPE
# trainer, are built for speed (-O3); the rest, which runs a few times a
# step or a click, for size (-Oz: the engine 47 KB smaller, and no slower).
WASM_CC      := clang --target=wasm32-wasi --sysroot=/usr
WASM_CFLAGS  := -msimd128 -ffp-contract=off -fno-builtin-memset -std=c11 -Wall -Wextra -Werror \
                -D_POSIX_C_SOURCE=200809L
WASM_HOT     := ops_cpu tokenizer bpe_train
WASM_LDFLAGS := -mexec-model=reactor -Wl,-z,stack-size=1048576 -Wl,--strip-all
WASM_OBJ     := $(LIB_SRC:src/%.c=build/web/obj/%.o)
wasm_opt      = $(if $(filter $*,$(WASM_HOT)),-O3,-Oz)

build/web/obj/%.o: src/%.c $(HEADERS) | build/web/obj
	$(WASM_CC) $(wasm_opt) $(WASM_CFLAGS) -c $< -o $@

build/web/obj/%.o: wasm/%.c $(HEADERS) | build/web/obj
	$(WASM_CC) $(wasm_opt) $(WASM_CFLAGS) -c $< -o $@

build/web/obj:
	mkdir -p $@

build/web/glassgpt.wasm: build/web/obj/exports.o $(WASM_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) $^ -lm -o $@

# The tests' build: the page's, and the reference kernels to hold the GPU's to.
build/web/glassgpt-test.wasm: build/web/obj/exports.o build/web/obj/test_exports.o $(WASM_OBJ)
	$(WASM_CC) $(WASM_LDFLAGS) $^ -lm -o $@

# The npm packages, from the committed lock file: lit-html for the page, and
# the test tools (playwright-core, Hugging Face's tokenizers).
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error

# The page's one vendored module, served from web/vendor/ (which git
# ignores), so that the page needs no network.
web/vendor/lit-html.js: node_modules/.package-lock.json
	@mkdir -p web/vendor
	cp node_modules/lit-html/lit-html.js $@

# ---- tests ----

TESTS := test_tokenizer test_model test_reference
test_tokenizer_SRC := tests/test_tokenizer.c tests/ref_bpe.c
test_model_SRC := tests/test_model.c
test_reference_SRC := tests/test_reference.c

build/test_%: tests/test_%.c tests/ref_bpe.c build/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) $($(@F)_SRC) build/libglassgpt.a $(LDLIBS) -o $@

build/asan/test_%: tests/test_%.c tests/ref_bpe.c build/asan/libglassgpt.a $(HEADERS)
	$(CC) $(SANFLAGS) $($(@F)_SRC) build/asan/libglassgpt.a $(LDLIBS) -o $@

build/asan-native/test_%: tests/test_%.c tests/ref_bpe.c build/asan-native/libglassgpt.a $(HEADERS)
	$(CC) $(SANFLAGS_NATIVE) $($(@F)_SRC) build/asan-native/libglassgpt.a $(LDLIBS) -o $@

build/dump_acts: tests/dump_acts.c build/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) tests/dump_acts.c build/libglassgpt.a $(LDLIBS) -o $@

test: setup corpus all $(TESTS:%=build/%) $(TESTS:%=build/asan/%) build/asan/glassgpt build/dump_acts \
      build/asan-native/test_tokenizer build/asan-native/test_model \
      node_modules/.package-lock.json models/tiny.ckpt models/small.ckpt $(FUZZ_BINS) \
      build/fuzz/seeds/.done build/glassgpt-mpi build/web/glassgpt-test.wasm
	@GLASSGPT_CORPUS=$(CORPUS_FILE) tests/run.sh

# ---- fuzzers ----

# libFuzzer harnesses (fuzz/), built with Debian's clang under ASan + UBSan.
# `make fuzz` runs each for FUZZ_SECONDS; `make test` runs each briefly.
build/fuzz/fuzz_%: fuzz/fuzz_%.c $(FUZZ_SRC) $(HEADERS)
	@mkdir -p build/fuzz
	clang $(FUZZ_FLAGS) $< $(FUZZ_SRC) -lm $(CLI_LIBS) -o $@

# Seed corpora, made from real files at build time.
build/fuzz/seeds/.done: scripts/fuzz_seeds.sh build/glassgpt $(TOKENIZER) | corpus
	scripts/fuzz_seeds.sh build/glassgpt $(CORPUS_FILE)
	@touch $@

fuzz: setup corpus $(FUZZ_BINS) build/fuzz/seeds/.done models/tiny.ckpt
	@scripts/fuzz.sh $(FUZZ_SECONDS)

# ---- benchmarks ----

build/bench_bpe: bench/bench_bpe.c tests/ref_bpe.c build/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) bench/bench_bpe.c tests/ref_bpe.c build/libglassgpt.a $(LDLIBS) -o $@

build/bench_model: bench/bench_model.c build/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) bench/bench_model.c build/libglassgpt.a $(LDLIBS) -o $@

# For `make bench` alone: the engine with fused multiply-adds, to measure
# what the same bits everywhere cost (its results differ in the last bits
# from every other build's, the browser's included).
build/fma/obj/%.o: src/%.c $(HEADERS) | build/fma/obj
	$(CC) $(CFLAGS) -ffp-contract=fast -c $< -o $@

build/fma/libglassgpt.a: $(FMA_OBJ)
	rm -f $@ && ar rcs $@ $^

build/fma/bench_model: bench/bench_model.c build/fma/libglassgpt.a $(HEADERS)
	$(CC) $(CFLAGS) bench/bench_model.c build/fma/libglassgpt.a $(LDLIBS) -o $@

bench: setup corpus all build/bench_bpe build/bench_model build/fma/bench_model node_modules/.package-lock.json \
       $(TOKENIZER) models/tiny.ckpt
	@scripts/setup.sh --bench
	@bench/run.sh $(CORPUS_FILE)

# ---- set-up, corpus, and the main job ----

setup:
	@scripts/setup.sh

corpus:
	@scripts/corpus.sh $(CORPUS)

$(TOKENIZER): | build/glassgpt corpus
	@mkdir -p models
	build/glassgpt bpe train $(CORPUS_FILE) -o $@ --trace models/tokenizer-trace.tsv

# The default models, trained once (seconds for tiny, about a minute for small).
models/%.ckpt: | $(TOKENIZER) build/glassgpt corpus
	build/glassgpt train --data $(CORPUS_FILE) -t $(TOKENIZER) --preset $* -o $@

PORT ?= 8080

run: setup corpus all $(TOKENIZER) models/tiny.ckpt models/small.ckpt
	@scripts/run.sh $(TOKENIZER)
	@build/glassgpt serve --port $(PORT)

clean:
	rm -rf build test-artifacts web/vendor
