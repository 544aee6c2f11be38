/* USDT probe sites read from a file's .note.stapsdt, turned into the argument
 * specs that libbpf's usdt.bpf.h reads at run time. libbpf can attach USDT
 * probes itself, but with one perf-event uprobe per call site, and removing
 * each waits for an RCU grace period (~130 ms here): a runtime with dozens of
 * sites took seconds to detach. With the specs in hand, session.c attaches
 * every site of a probe as one uprobe_multi link. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

/* The link-time address of a symbol (any type), or 0. */
static uint64_t symbol_vaddr(Elf *e, const char *name, size_t len) {
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) ||
        (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) || !sh.sh_entsize)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    for (size_t i = 0; data && i < sh.sh_size / sh.sh_entsize; i++) {
      GElf_Sym sym;
      const char *n;
      if (gelf_getsym(data, (int)i, &sym) && sym.st_shndx != SHN_UNDEF &&
          (n = elf_strptr(e, sh.sh_link, sym.st_name)) && strlen(n) == len &&
          !strncmp(n, name, len))
        return sym.st_value;
    }
  }
  return 0;
}

#if defined(__x86_64__)
#include <asm/ptrace.h>

/* Register names as the assembler writes them in sdt.h argument strings,
 * with the pt_regs slot holding them (libbpf's usdt.c has the same table). */
static const struct {
  const char *names[4];
  short off;
} regs[] = {
  {{"rip", NULL}, offsetof(struct pt_regs, rip)},
  {{"rax", "eax", "ax", "al"}, offsetof(struct pt_regs, rax)},
  {{"rbx", "ebx", "bx", "bl"}, offsetof(struct pt_regs, rbx)},
  {{"rcx", "ecx", "cx", "cl"}, offsetof(struct pt_regs, rcx)},
  {{"rdx", "edx", "dx", "dl"}, offsetof(struct pt_regs, rdx)},
  {{"rsi", "esi", "si", "sil"}, offsetof(struct pt_regs, rsi)},
  {{"rdi", "edi", "di", "dil"}, offsetof(struct pt_regs, rdi)},
  {{"rbp", "ebp", "bp", "bpl"}, offsetof(struct pt_regs, rbp)},
  {{"rsp", "esp", "sp", "spl"}, offsetof(struct pt_regs, rsp)},
  {{"r8", "r8d", "r8w", "r8b"}, offsetof(struct pt_regs, r8)},
  {{"r9", "r9d", "r9w", "r9b"}, offsetof(struct pt_regs, r9)},
  {{"r10", "r10d", "r10w", "r10b"}, offsetof(struct pt_regs, r10)},
  {{"r11", "r11d", "r11w", "r11b"}, offsetof(struct pt_regs, r11)},
  {{"r12", "r12d", "r12w", "r12b"}, offsetof(struct pt_regs, r12)},
  {{"r13", "r13d", "r13w", "r13b"}, offsetof(struct pt_regs, r13)},
  {{"r14", "r14d", "r14w", "r14b"}, offsetof(struct pt_regs, r14)},
  {{"r15", "r15d", "r15w", "r15b"}, offsetof(struct pt_regs, r15)},
};

static int reg_off(const char *name, size_t len) {
  for (size_t i = 0; i < sizeof(regs) / sizeof(regs[0]); i++)
    for (int k = 0; k < 4 && regs[i].names[k]; k++)
      if (strlen(regs[i].names[k]) == len && !strncmp(regs[i].names[k], name, len))
        return regs[i].off;
  return -1;
}

/* "sym(%rip)", "32+sym(%rip)", "sym+32(%rip)": a global the compiler
 * addresses relative to the code. The uprobe handler sees rip = the probe's
 * address, so the global is at a fixed distance from rip, wherever the file
 * is loaded. */
static int parse_rip_relative(Elf *e, uint64_t pc, const char *p, const char *s,
                              ls__usdt_arg *a) {
  long long off = 0;
  char *end;
  if (isdigit((unsigned char)*p) || *p == '-') {
    off = strtoll(p, &end, 0);
    if (*end != '+')
      return -1;
    p = end + 1;
  }
  const char *name = p;
  while (*p && *p != '+' && *p != '-' && *p != '(')
    p++;
  size_t len = (size_t)(p - name);
  if (*p == '+' || *p == '-') {
    off += strtoll(p, &end, 0);
    p = end;
  }
  if (strncmp(p, "(%rip)", 6))
    return -1;
  uint64_t sym = symbol_vaddr(e, name, len);
  if (!sym)
    return -1;
  a->arg_type = LS__USDT_ARG_REG_DEREF;
  a->reg_off = offsetof(struct pt_regs, rip);
  a->val_off = sym + (uint64_t)off - pc;
  return (int)(p + 6 - s);
}

/* One argument: "8@%rdi", "-4@$5", "8@-16(%rbp)", "8@(%rax)", "8@sym(%rip)".
 * Returns the characters consumed, or -1 for a form we do not handle (index
 * registers, segments: not produced for our probes' arguments). */
static int parse_arg(Elf *e, uint64_t pc, const char *s, ls__usdt_arg *a) {
  char *end;
  long size = strtol(s, &end, 10);
  if (end == s || *end != '@' || size == 0 || labs(size) > 8)
    return -1;
  const char *p = end + 1;
  memset(a, 0, sizeof(*a));
  a->arg_signed = size < 0;
  a->arg_bitshift = (char)(64 - 8 * labs(size));
  if (*p == '$') {
    a->arg_type = LS__USDT_ARG_CONST;
    a->val_off = (uint64_t)strtoll(p + 1, &end, 0);
    if (end == p + 1)
      return -1;
    return (int)(end - s);
  }
  long long off = 0;
  bool deref = false;
  const char *rip = strstr(p, "(%rip)");
  if (rip && rip < p + strcspn(p, " "))
    return parse_rip_relative(e, pc, p, s, a);
  if (*p != '%') {
    off = strtoll(p, &end, 0); /* "" before "(" means 0 */
    p = end;
    if (*p != '(')
      return -1;
    p++;
    deref = true;
  }
  if (*p != '%')
    return -1;
  const char *name = ++p;
  while (isalnum((unsigned char)*p))
    p++;
  int r = reg_off(name, (size_t)(p - name));
  if (r < 0)
    return -1;
  if (deref) {
    if (*p != ')')
      return -1;
    p++;
  }
  a->arg_type = deref ? LS__USDT_ARG_REG_DEREF : LS__USDT_ARG_REG;
  a->reg_off = (short)r;
  a->val_off = (uint64_t)off;
  return (int)(p - s);
}
#else
static int parse_arg(Elf *e, uint64_t pc, const char *s, ls__usdt_arg *a) {
  (void)e, (void)pc, (void)s, (void)a;
  return -1; /* argument registers of other architectures: not yet */
}
#endif

static int parse_args(Elf *e, uint64_t pc, const char *s, ls__usdt_spec *spec) {
  spec->arg_cnt = 0;
  while (*s) {
    while (*s == ' ')
      s++;
    if (!*s)
      break;
    if (spec->arg_cnt == LS__USDT_MAX_ARGS)
      return -1;
    int n = parse_arg(e, pc, s, &spec->args[spec->arg_cnt]);
    if (n < 0)
      return -1;
    spec->arg_cnt++;
    s += n;
  }
  return 0;
}

/* File offset of a virtual address: through the PT_LOAD segment holding it.
 * (uprobes and their reference counters, i.e. semaphores, take offsets.) */
static int vaddr_to_offset(Elf *e, uint64_t addr, uint64_t *off) {
  size_t n;
  if (elf_getphdrnum(e, &n))
    return -1;
  for (size_t i = 0; i < n; i++) {
    GElf_Phdr ph;
    if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_LOAD &&
        addr >= ph.p_vaddr && addr < ph.p_vaddr + ph.p_memsz) {
      *off = addr - ph.p_vaddr + ph.p_offset;
      return 0;
    }
  }
  return -1;
}

int ls__usdt_sites(const char *path, const char *provider,
                   const char *const *probes, unsigned nprobes,
                   ls__usdt_site **out, size_t *nout, char *err,
                   size_t errlen) {
  *out = NULL;
  *nout = 0;
  if (elf_version(EV_CURRENT) == EV_NONE)
    return snprintf(err, errlen, "libelf: %s", elf_errmsg(-1)), -1;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return snprintf(err, errlen, "%s: %s", path, strerror(errno)), -1;
  Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
  size_t shstrndx, cap = 0;
  int rc = -1;
  if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx)) {
    snprintf(err, errlen, "%s: not an ELF file", path);
    goto done;
  }
  /* Prelinking moves code; .stapsdt.base records where the notes' "base"
   * went, and each site moves with it. */
  uint64_t base = 0;
  Elf_Scn *scn = NULL, *notes = NULL;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    const char *name;
    if (!gelf_getshdr(scn, &sh) || !(name = elf_strptr(e, shstrndx, sh.sh_name)))
      continue;
    if (!strcmp(name, ".stapsdt.base"))
      base = sh.sh_addr;
    else if (!strcmp(name, ".note.stapsdt") && sh.sh_type == SHT_NOTE)
      notes = scn;
  }
  Elf_Data *data = notes ? elf_getdata(notes, NULL) : NULL;
  size_t off = 0, name_off, desc_off;
  GElf_Nhdr nh;
  while (data && (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
    const char *desc = (const char *)data->d_buf + desc_off;
    const char *end = desc + nh.n_descsz;
    uint64_t a[3];
    if (nh.n_type != 3 || nh.n_descsz < sizeof(a) || gelf_getclass(e) != ELFCLASS64)
      continue;
    memcpy(a, desc, sizeof(a)); /* pc, base, semaphore */
    const char *prov = desc + sizeof(a);
    const char *pname = prov + strnlen(prov, (size_t)(end - prov)) + 1;
    if (pname >= end)
      continue;
    const char *args = pname + strnlen(pname, (size_t)(end - pname)) + 1;
    if (args > end || strnlen(args, (size_t)(end - args)) == (size_t)(end - args) ||
        strcmp(prov, provider))
      continue;
    int probe = -1;
    for (unsigned i = 0; i < nprobes; i++)
      if (!strcmp(pname, probes[i]))
        probe = (int)i;
    if (probe < 0)
      continue;
    if (*nout == cap) {
      cap = cap ? 2 * cap : 32;
      ls__usdt_site *s = realloc(*out, cap * sizeof(*s));
      if (!s) {
        snprintf(err, errlen, "out of memory");
        goto done;
      }
      *out = s;
    }
    ls__usdt_site *site = &(*out)[*nout];
    memset(site, 0, sizeof(*site));
    uint64_t pc = a[0];
    if (base && a[1])
      pc += base - a[1];
    if (vaddr_to_offset(e, pc, &site->offset) < 0 || parse_args(e, pc, args, &site->spec) < 0) {
      snprintf(err, errlen, "%s: USDT probe %s:%s at 0x%llx: cannot read its "
               "arguments \"%s\"", path, prov, pname, (unsigned long long)pc, args);
      goto done;
    }
    if (a[2] && vaddr_to_offset(e, a[2], &site->semaphore) < 0) {
      snprintf(err, errlen, "%s: USDT probe %s:%s: semaphore 0x%llx is in no "
               "segment", path, prov, pname, (unsigned long long)a[2]);
      goto done;
    }
    site->probe = probe;
    (*nout)++;
  }
  rc = 0;
done:
  if (e)
    elf_end(e);
  close(fd);
  if (rc < 0) {
    free(*out);
    *out = NULL;
    *nout = 0;
  }
  return rc;
}
