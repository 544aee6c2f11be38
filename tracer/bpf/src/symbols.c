/* Reading a target's ELF files: function offsets for uprobes, USDT notes. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

static Elf *elf_open(const char *path, int *fd, char *err, size_t errlen) {
  if (elf_version(EV_CURRENT) == EV_NONE) {
    snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
    return NULL;
  }
  *fd = open(path, O_RDONLY | O_CLOEXEC);
  if (*fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  Elf *e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
  if (!e || elf_kind(e) != ELF_K_ELF) {
    snprintf(err, errlen, "%s: not an ELF file", path);
    if (e)
      elf_end(e);
    close(*fd);
    return NULL;
  }
  return e;
}

/* One symbol table: fills offsets still 0 for names found there. */
static void scan_symtab(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh,
                        const char *const *names, uint64_t *offsets,
                        size_t n) {
  Elf_Data *data = elf_getdata(scn, NULL);
  if (!data || !sh->sh_entsize)
    return;
  size_t count = sh->sh_size / sh->sh_entsize;
  for (size_t i = 0; i < count; i++) {
    GElf_Sym sym;
    if (!gelf_getsym(data, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
        sym.st_shndx == SHN_UNDEF || sym.st_value == 0)
      continue;
    const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
    if (!name)
      continue;
    for (size_t k = 0; k < n; k++) {
      if (offsets[k] || name[0] != names[k][0] || strcmp(name, names[k]))
        continue;
      /* uprobes take a file offset: the address relative to its section,
       * plus the section's place in the file. */
      GElf_Shdr text;
      Elf_Scn *in = elf_getscn(e, sym.st_shndx);
      if (in && gelf_getshdr(in, &text))
        offsets[k] = sym.st_value - text.sh_addr + text.sh_offset;
    }
  }
}

int ls__elf_func_offsets(const char *path, const char *const *names,
                         uint64_t *offsets, size_t n, char *err,
                         size_t errlen) {
  int fd;
  Elf *e = elf_open(path, &fd, err, errlen);
  if (!e)
    return -1;
  memset(offsets, 0, n * sizeof(*offsets));
  for (int pass = 0; pass < 2; pass++) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn))) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) &&
          sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
        scan_symtab(e, scn, &sh, names, offsets, n);
    }
  }
  elf_end(e);
  close(fd);
  return 0;
}

bool ls__elf_has_usdt(const char *path, const char *provider) {
  char err[256];
  int fd;
  bool found = false;
  size_t shstrndx;
  Elf *e = elf_open(path, &fd, err, sizeof(err));
  if (!e)
    return false;
  if (elf_getshdrstrndx(e, &shstrndx) == 0) {
    Elf_Scn *scn = NULL;
    while (!found && (scn = elf_nextscn(e, scn))) {
      GElf_Shdr sh;
      const char *sname;
      if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_NOTE ||
          !(sname = elf_strptr(e, shstrndx, sh.sh_name)) ||
          strcmp(sname, ".note.stapsdt"))
        continue;
      Elf_Data *data = elf_getdata(scn, NULL);
      size_t off = 0, name_off, desc_off;
      GElf_Nhdr nh;
      while (data && !found &&
             (off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
        /* desc: pc, base, semaphore (3 addresses), then "provider\0name\0args\0" */
        size_t addrs = 3 * (gelf_getclass(e) == ELFCLASS32 ? 4 : 8);
        const char *desc = (const char *)data->d_buf + desc_off;
        if (nh.n_type == 3 && nh.n_descsz > addrs &&
            strnlen(desc + addrs, nh.n_descsz - addrs) < nh.n_descsz - addrs &&
            strcmp(desc + addrs, provider) == 0)
          found = true;
      }
    }
  }
  elf_end(e);
  close(fd);
  return found;
}
