# Fixtures of test_symbolize, from tests/unit/fixtures/sym_*.c: ELF files
# with known symbols (a shared library, a PIE and a non-PIE executable),
# a stripped copy of the library and two broken ones.

SYMFX_DIR := $(BUILD)/fixtures
SYMFX_SRC := tests/unit/fixtures
SYMFX_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror
SYMFX_STRIP ?= strip
SYMFX := $(addprefix $(SYMFX_DIR)/,libbtsym.so libbtsym_stripped.so sym_pie sym_nopie \
	sym_truncated.so sym_garbage.so)

UNIT_EXTRA += $(SYMFX)

# This file is read before the Makefile's first rule: keep `all' the default goal.
SYMFX_SAVED_GOAL := $(.DEFAULT_GOAL)

$(SYMFX_DIR)/libbtsym.so: $(SYMFX_SRC)/sym_lib.c $(SYMFX_SRC)/sym_lib.h
	@mkdir -p $(@D)
	$(CC) $(SYMFX_CFLAGS) -fPIC -shared -Wl,-soname,libbtsym.so -o $@ $<

$(SYMFX_DIR)/sym_pie: $(SYMFX_SRC)/sym_prog.c $(SYMFX_SRC)/sym_lib.h $(SYMFX_DIR)/libbtsym.so
	$(CC) $(SYMFX_CFLAGS) -fPIE -pie -o $@ $< -L$(SYMFX_DIR) -lbtsym -Wl,-rpath,'$$ORIGIN'

$(SYMFX_DIR)/sym_nopie: $(SYMFX_SRC)/sym_prog.c $(SYMFX_SRC)/sym_lib.h $(SYMFX_DIR)/libbtsym.so
	$(CC) $(SYMFX_CFLAGS) -fno-pie -no-pie -o $@ $< -L$(SYMFX_DIR) -lbtsym -Wl,-rpath,'$$ORIGIN'

$(SYMFX_DIR)/libbtsym_stripped.so: $(SYMFX_DIR)/libbtsym.so
	$(SYMFX_STRIP) --strip-all -o $@ $<

# Cut short: the section headers at the end are gone.
$(SYMFX_DIR)/sym_truncated.so: $(SYMFX_DIR)/libbtsym.so
	head -c 6000 $< > $@.tmp && mv $@.tmp $@

# Headers and segments intact, everything past the first page (section
# headers included) overwritten with 0xff.
$(SYMFX_DIR)/sym_garbage.so: $(SYMFX_DIR)/libbtsym.so
	{ head -c 4096 $<; tail -c +4097 $< | LC_ALL=C tr '\000-\376' '\377'; } > $@.tmp && mv $@.tmp $@

.DEFAULT_GOAL := $(SYMFX_SAVED_GOAL)
