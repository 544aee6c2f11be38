/* loopscope-view: the timeline viewer (started by `loopscope view`). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "app.h"
#if LS_VIEW_JSON
#include "loopscope/export.h"
#endif

static void usage(FILE *f) {
  fprintf(f,
          "usage: loopscope-view FILE [options]\n"
          "  FILE is a loopscope trace (FXT) or Chrome trace JSON.\n"
          "  --screenshot OUT.png   render headless and write a PNG\n"
          "  --from T --to T        the time window (from the trace start)\n"
          "  --cursor T             put the replay cursor at T\n"
          "  --size WxH             window / image size (default 1280x800)\n"
          "  --script FILE          run input steps headless, one a line:\n"
          "      zoom F [at X] | pan DX [DY] | click X Y | move X Y |\n"
          "      key NAME | type TEXT | search TEXT | play SECONDS |\n"
          "      speed X | view T0 T1 | cursor T | resize W H |\n"
          "      screenshot OUT.png\n"
          "  T is a number with a unit: 1.5ms, 200us, 2s, 300ns (bare: ms).\n"
          "keys: wheel/w/s zoom, drag/a/d pan, click select, f fit, / search,\n"
          "  n/N next/previous long callback (t: threshold), space play,\n"
          "  [ ] slower / faster, 1 real time, arrows step, l loop-state panel,\n"
          "  c collapse, p pin.\n");
}

/* Chrome JSON starts with '{' or '['; FXT with its binary magic. */
static int is_json(const char *path) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return 0;
  int c;
  while ((c = fgetc(f)) == ' ' || c == '\n' || c == '\r' || c == '\t')
    ;
  fclose(f);
  return c == '{' || c == '[';
}

/* Converts JSON to a temporary FXT file; returns its path or NULL. */
static char *import_json(const char *path) {
#if LS_VIEW_JSON
  int in = open(path, O_RDONLY);
  struct stat st;
  if (in < 0 || fstat(in, &st) != 0 || st.st_size == 0) {
    fprintf(stderr, "loopscope-view: %s: %s\n", path,
            in < 0 ? strerror(errno) : "empty file");
    if (in >= 0)
      close(in);
    return NULL;
  }
  void *map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, in, 0);
  close(in);
  if (map == MAP_FAILED) {
    fprintf(stderr, "loopscope-view: %s: %s\n", path, strerror(errno));
    return NULL;
  }
  char *tmp = strdup("/tmp/loopscope-view-XXXXXX");
  int fd = mkstemp(tmp);
  char err[512] = "";
  ls_import_stats is;
  int rc = fd < 0 ? -1
                  : ls_import_chrome(map, (size_t)st.st_size, path, fd, &is,
                                     err, sizeof err);
  munmap(map, (size_t)st.st_size);
  if (fd >= 0)
    close(fd);
  if (rc != 0) {
    fprintf(stderr, "loopscope-view: %s\n",
            err[0] ? err : "cannot create a temporary file");
    unlink(tmp);
    free(tmp);
    return NULL;
  }
  return tmp;
#else
  fprintf(stderr,
          "loopscope-view: %s is Chrome JSON; this build has no importer: "
          "convert it with `loopscope import %s`\n",
          path, path);
  return NULL;
#endif
}

int main(int argc, char **argv) {
  const char *file = NULL, *shot = NULL, *script = NULL;
  const char *from = NULL, *to = NULL, *cursor = NULL;
  int w = 1280, h = 800;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (a[0] == '-' && a[1] == '-' && v == NULL) {
      fprintf(stderr, "loopscope-view: %s needs a value\n", a);
      return 2;
    }
    if (strcmp(a, "--screenshot") == 0)
      shot = argv[++i];
    else if (strcmp(a, "--script") == 0)
      script = argv[++i];
    else if (strcmp(a, "--from") == 0)
      from = argv[++i];
    else if (strcmp(a, "--to") == 0)
      to = argv[++i];
    else if (strcmp(a, "--cursor") == 0)
      cursor = argv[++i];
    else if (strcmp(a, "--size") == 0) {
      char end;
      if (sscanf(argv[++i], "%dx%d%c", &w, &h, &end) != 2 ||
          w < LS_VSIZE_MIN || h < LS_VSIZE_MIN || w > LS_VSIZE_MAX ||
          h > LS_VSIZE_MAX) {
        fprintf(stderr, "loopscope-view: --size wants WxH from 64x64 to "
                        "16384x16384, e.g. 1920x1080\n");
        return 2;
      }
    } else if (a[0] == '-') {
      fprintf(stderr, "loopscope-view: unknown option %s\n", a);
      usage(stderr);
      return 2;
    } else if (file == NULL)
      file = a;
    else {
      fprintf(stderr, "loopscope-view: one trace at a time (%s)\n", a);
      return 2;
    }
  }
  if (file == NULL) {
    usage(stderr);
    return 2;
  }
  uint64_t tfrom = 0, tto = 0, tcur = 0;
  if ((from && ls_vparse_time(from, &tfrom)) || (to && ls_vparse_time(to, &tto)) ||
      (cursor && ls_vparse_time(cursor, &tcur)) || (from && to && tto <= tfrom)) {
    fprintf(stderr, "loopscope-view: bad time (want e.g. 1.5ms; --to after "
                    "--from)\n");
    return 2;
  }
  if (access(file, R_OK) != 0) {
    fprintf(stderr, "loopscope-view: %s: %s\n", file, strerror(errno));
    return 1;
  }
  char *tmp = NULL;
  if (is_json(file)) {
    tmp = import_json(file);
    if (tmp == NULL)
      return 1;
  }
  bool headless = shot || script;
  ls_vapp app;
  if (ls_vapp_init(&app, w, h, !headless) != 0) {
    if (!headless)
      fprintf(stderr, "loopscope-view: no display? Use --screenshot for a "
                      "headless picture.\n");
    ls_vapp_free(&app);
    return 1;
  }
  int rc = 0;
  app.title = file;
  app.want_window = from || to;
  app.want_from = tfrom;
  app.want_to = to ? tto : 0;
  app.want_cursor_set = cursor != NULL;
  app.want_cursor = tcur;
  if (ls_vapp_load(&app, tmp ? tmp : file) != 0) {
    rc = 1;
  } else if (headless) {
    ls_vapp_wait_loaded(&app);
    ls_vmodel *m = &app.model;
    if (atomic_load(&m->state) == LS_VLOAD_FAILED)
      fprintf(stderr, "loopscope-view: %s\n", m->error);
    else if (m->error[0])
      fprintf(stderr, "loopscope-view: warning: %s\n", m->error);
    if (script && ls_vapp_script(&app, script) != 0)
      rc = 1;
    if (shot) {
      ls_vapp_frame(&app);
      if (ls_vapp_screenshot(&app, shot) != 0)
        rc = 1;
    }
    if (rc == 0 && atomic_load(&m->state) == LS_VLOAD_FAILED)
      rc = 1;
  } else {
    ls_vapp_run(&app);
  }
  ls_vapp_free(&app);
  if (tmp) {
    unlink(tmp);
    free(tmp);
  }
  return rc;
}
