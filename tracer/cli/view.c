/* `loopscope view FILE [options]`: runs the SDL viewer, loopscope-view.
 *
 * The viewer is its own binary so the command line does not link SDL. It is
 * found next to this binary: ../../viewer/loopscope-view in the build tree
 * (build/tracer/cli/loopscope), or in the same directory once installed. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cmd.h"

static int find_viewer(char *out, size_t len, char *tried, size_t tlen) {
  char self[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0)
    return -1;
  self[n] = 0;
  char *slash = strrchr(self, '/');
  if (slash == NULL)
    return -1;
  *slash = 0;
  const char *rel[] = {"/../../viewer/loopscope-view", "/loopscope-view"};
  tried[0] = 0;
  for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
    snprintf(out, len, "%s%s", self, rel[i]);
    size_t used = strlen(tried);
    snprintf(tried + used, tlen - used, "%s%s", used ? ", " : "", out);
    if (access(out, X_OK) == 0)
      return 0;
  }
  return -1;
}

int ls_cmd_view(int argc, char **argv) {
  char path[PATH_MAX + 64], tried[2 * PATH_MAX + 200];
  bool help = argc < 2;
  for (int i = 1; i < argc; i++)
    help |= strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0;
  if (find_viewer(path, sizeof path, tried, sizeof tried) != 0) {
    if (help) {
      printf("usage: loopscope view FILE [--screenshot OUT.png] [--from T "
             "--to T] [--size WxH] [--cursor T] [--script FILE]\n");
    }
    return ls_cli_fail("view",
                       "the viewer (loopscope-view) is not built: it needs "
                       "SDL2 and SDL2_ttf and -DLS_VIEWER=ON (looked for %s)",
                       tried);
  }
  if (argc < 2) /* loopscope-view prints its own usage */
    return ls_cli_usage("view", "which trace? loopscope view FILE");
  /* argv[0] is "view": the viewer gets the same arguments under its name. */
  argv[0] = path;
  execv(path, argv);
  return ls_cli_fail("view", "cannot run %s: %s", path, strerror(errno));
}
