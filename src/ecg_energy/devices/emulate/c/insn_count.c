/* A QEMU TCG plugin that counts the guest's retired instructions and, each time the guest calls
 * its marker function (the address given as mark=0x...), writes the count so far to the file
 * given as out=PATH, one number a line; the total is the last line, written at exit.
 *
 * The count is added per translated block as the block starts (an inline add, cheap), so a mark
 * includes the instructions of its own block: a constant few, the same for every mark. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qemu_plugin_api.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = 1;

static uint64_t count;
static uint64_t mark_addr = UINT64_MAX;
static FILE *out;

static void on_mark(unsigned int vcpu_index, void *userdata) {
  (void)vcpu_index;
  (void)userdata;
  fprintf(out, "%" PRIu64 "\n", count);
}

static void on_translate(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  size_t n = qemu_plugin_tb_n_insns(tb);
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &count, n);
  for (size_t i = 0; i < n; i++) {
    struct qemu_plugin_insn *insn = qemu_plugin_tb_get_insn(tb, i);
    if ((qemu_plugin_insn_vaddr(insn) & ~(uint64_t)1) == mark_addr) {
      qemu_plugin_register_vcpu_insn_exec_cb(insn, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
  }
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  fprintf(out, "total %" PRIu64 "\n", count);
  fclose(out);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc,
                                           char **argv) {
  (void)info;
  const char *path = NULL;
  for (int i = 0; i < argc; i++) {
    if (strncmp(argv[i], "mark=", 5) == 0) mark_addr = strtoull(argv[i] + 5, NULL, 0) & ~1ULL;
    if (strncmp(argv[i], "out=", 4) == 0) path = argv[i] + 4;
  }
  if (path == NULL || mark_addr == UINT64_MAX) return -1;
  out = fopen(path, "w");
  if (out == NULL) return -1;
  qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
