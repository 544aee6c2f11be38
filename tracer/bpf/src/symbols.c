/* Reading a target's ELF files: function offsets for uprobes, USDT notes. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

#if defined(__x86_64__)
#define LS__MULTIARCH "x86_64-linux-gnu"
#elif defined(__aarch64__)
#define LS__MULTIARCH "aarch64-linux-gnu"
#else
#define LS__MULTIARCH "."
#endif

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
                        uint64_t *sizes, size_t n) {
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
      if (in && gelf_getshdr(in, &text)) {
        offsets[k] = sym.st_value - text.sh_addr + text.sh_offset;
        if (sizes)
          sizes[k] = sym.st_size;
      }
    }
  }
}

int ls__elf_func_offsets(const char *path, const char *const *names,
                         uint64_t *offsets, uint64_t *sizes, size_t n,
                         char *err, size_t errlen) {
  int fd;
  Elf *e = elf_open(path, &fd, err, errlen);
  if (!e)
    return -1;
  memset(offsets, 0, n * sizeof(*offsets));
  if (sizes)
    memset(sizes, 0, n * sizeof(*sizes));
  for (int pass = 0; pass < 2; pass++) {
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn))) {
      GElf_Shdr sh;
      if (gelf_getshdr(scn, &sh) &&
          sh.sh_type == (pass == 0 ? SHT_SYMTAB : SHT_DYNSYM))
        scan_symtab(e, scn, &sh, names, offsets, sizes, n);
    }
  }
  elf_end(e);
  close(fd);
  return 0;
}

int ls__elf_read(const char *path, uint64_t off, void *buf, size_t len) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return -1;
  ssize_t n = pread(fd, buf, len, (off_t)off);
  close(fd);
  return n == (ssize_t)len ? 0 : -1;
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

/* One directory list ("a:b:c", $ORIGIN expanded) searched for name. */
static bool search_dirs(const char *dirs, const char *origin, const char *name,
                        char *out, size_t outlen) {
  while (dirs && *dirs) {
    size_t len = strcspn(dirs, ":");
    char dir[PATH_MAX];
    if (len >= 7 && !strncmp(dirs, "$ORIGIN", 7))
      snprintf(dir, sizeof(dir), "%s%.*s", origin, (int)(len - 7), dirs + 7);
    else
      snprintf(dir, sizeof(dir), "%.*s", (int)len, dirs);
    if (snprintf(out, outlen, "%s/%s", dir, name) < (int)outlen &&
        access(out, R_OK) == 0)
      return true;
    dirs += len + (dirs[len] == ':');
  }
  return false;
}

int ls__elf_needed(const char *exe, char (*libs)[PATH_MAX], int max) {
  char err[256], origin[PATH_MAX];
  int fd, n = 0;
  Elf *e = elf_open(exe, &fd, err, sizeof(err));
  if (!e)
    return 0;
  snprintf(origin, sizeof(origin), "%s", exe);
  char *slash = strrchr(origin, '/');
  if (slash)
    *slash = 0;
  else
    snprintf(origin, sizeof(origin), ".");
  Elf_Scn *scn = NULL;
  while ((scn = elf_nextscn(e, scn))) {
    GElf_Shdr sh;
    if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
      continue;
    Elf_Data *data = elf_getdata(scn, NULL);
    size_t count = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
    const char *runpath = NULL;
    for (size_t i = 0; data && i < count; i++) {
      GElf_Dyn d;
      if (gelf_getdyn(data, (int)i, &d) &&
          (d.d_tag == DT_RUNPATH || (d.d_tag == DT_RPATH && !runpath)))
        runpath = elf_strptr(e, sh.sh_link, d.d_un.d_val);
    }
    for (size_t i = 0; data && i < count && n < max; i++) {
      GElf_Dyn d;
      const char *name;
      if (!gelf_getdyn(data, (int)i, &d) || d.d_tag != DT_NEEDED ||
          !(name = elf_strptr(e, sh.sh_link, d.d_un.d_val)))
        continue;
      /* The loader's order, minus ld.so.cache: what a program on our
       * runtime needs is found by its RUNPATH or the usual directories. */
      if (search_dirs(runpath, origin, name, libs[n], PATH_MAX) ||
          search_dirs(getenv("LD_LIBRARY_PATH"), origin, name, libs[n], PATH_MAX) ||
          search_dirs("/usr/local/lib:/lib/" LS__MULTIARCH ":/usr/lib/" LS__MULTIARCH
                      ":/lib:/usr/lib", origin, name, libs[n], PATH_MAX))
        n++;
    }
  }
  elf_end(e);
  close(fd);
  return n;
}
