# The recording reader's fuzzer, tests/fuzz/fuzz_record.c: `make fuzz-record`
# builds it with clang's libFuzzer, ASan and UBSan, and runs it for
# FUZZ_TIME seconds on the seeds in tests/fuzz/corpus/record (read only;
# what it finds goes to $(BUILD)/fuzz/corpus-record, crashes to
# $(BUILD)/fuzz/artifacts). The target's own stderr is closed (the
# exporters' notes on every input); sanitizer reports still come out.
# Memory is limited (-rss_limit_mb): the reader's records may make at
# most 256 times its input in model (64 MiB at least), so an input that
# makes it grow past the limit is a finding, not a slow run.

# This file is read before the Makefile's first rule: keep `all' the default goal.
REC_SAVED_GOAL := $(.DEFAULT_GOAL)

FUZZ_CC ?= $(CLANG)
FUZZ_TIME ?= 60
FUZZ_FLAGS ?=
REC_FUZZ := $(BUILD)/fuzz
REC_FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
# Everything the linker may want but the BPF loader, which needs the skeleton.
REC_FUZZ_LIB_SRCS := $(filter-out $(shell grep -l '\.skel\.h' $(LIB_SRCS) 2>/dev/null),$(LIB_SRCS))
REC_FUZZ_LIB_OBJS := $(patsubst user/%.c,$(REC_FUZZ)/user/%.o,$(REC_FUZZ_LIB_SRCS))

.PHONY: fuzz-record fuzz-record-build

fuzz-record-build: $(REC_FUZZ)/fuzz_record

fuzz-record: $(REC_FUZZ)/fuzz_record
	@mkdir -p $(REC_FUZZ)/corpus-record $(REC_FUZZ)/artifacts
	$(REC_FUZZ)/fuzz_record -max_total_time=$(FUZZ_TIME) -timeout=10 -rss_limit_mb=1024 \
		-close_fd_mask=2 -dict=tests/fuzz/record.dict -artifact_prefix=$(REC_FUZZ)/artifacts/ $(FUZZ_FLAGS) \
		$(REC_FUZZ)/corpus-record tests/fuzz/corpus/record

# Others' code gets no -Werror here: a clang-only warning must not stop the fuzzer.
$(REC_FUZZ)/user/%.o: user/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) -O1 -g -fsanitize=fuzzer-no-link $(REC_FUZZ_SAN) \
		$(filter-out -Werror,$(WARN)) -MMD -MP -c $< -o $@

$(REC_FUZZ)/libbt.a: $(REC_FUZZ_LIB_OBJS)
	rm -f $@ && $(AR) rcs $@ $^

$(REC_FUZZ)/fuzz_record: tests/fuzz/fuzz_record.c $(REC_FUZZ)/libbt.a
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(LIBBPF_CFLAGS) -O1 -g -fsanitize=fuzzer $(REC_FUZZ_SAN) $(WARN) \
		-MMD -MP -o $@ $< $(REC_FUZZ)/libbt.a $(LDLIBS)

-include $(wildcard $(REC_FUZZ)/*.d $(REC_FUZZ)/user/*/*.d)

.DEFAULT_GOAL := $(REC_SAVED_GOAL)
