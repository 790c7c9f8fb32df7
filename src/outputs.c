/* outputs.c - refuses output paths that would overwrite an input or that
 * lead into a missing directory, before the run opens anything. */
#include "outputs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Writing to a character device (/dev/null, a terminal) cannot destroy
 * what is read from it, so only other files count as the same. */
static bool same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && !S_ISCHR(a->st_mode);
}

/* Returns the index of the -r input that out is, or -1. An input that
 * cannot be stat'ed is left for the capture to report. */
static int input_named_by(const fa_options *o, const struct stat *out)
{
    for (int i = 0; i < o->nfiles; i++) {
        struct stat in;
        int rc = strcmp(o->files[i], "-") == 0 ? fstat(STDIN_FILENO, &in) : stat(o->files[i], &in);
        if (rc == 0 && same_file(&in, out))
            return i;
    }
    return -1;
}

/* A path that does not exist yet is no input, but its directory must
 * exist, or the run would fail only once the report is written. */
static int check_dir(const char *opt, const char *path, char *err, size_t errlen)
{
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash)
        return 0;
    size_t len = slash == path ? 1 : (size_t)(slash - path);
    if (len >= sizeof dir) {
        snprintf(err, errlen, "%s %s: path too long", opt, path);
        return -1;
    }
    memcpy(dir, path, len);
    dir[len] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0) {
        snprintf(err, errlen, "%s %s: directory %s: %s", opt, path, dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s: %s is not a directory", opt, path, dir);
        return -1;
    }
    return 0;
}

/* One output path: opt names the option, and shown the path as the user
 * gave it when path is a name derived from it (rotated, or temporary). */
static int check_one(const fa_options *o, const char *opt, const char *shown, const char *path,
                     char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return errno == ENOENT || errno == ENOTDIR ? check_dir(opt, path, err, errlen) : 0;
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s %s is a directory", opt, path);
        return -1;
    }
    int in = input_named_by(o, &st);
    if (in < 0)
        return 0;
    const char *input = strcmp(o->files[in], "-") == 0 ? "- (standard input)" : o->files[in];
    if (shown == path)
        snprintf(err, errlen, "%s %s is the input -r %s: refusing to overwrite it", opt, path, input);
    else
        snprintf(err, errlen, "%s %s would %s %s, the input -r %s: refusing to overwrite it", opt, shown,
                 strcmp(opt, "-w") == 0 ? "rotate into" : "be written through", path, input);
    return -1;
}

/* FILE.1 .. FILE.N, which rotation renames over. */
static int check_rotated(const fa_options *o, char *err, size_t errlen)
{
    char path[4096];
    if (o->evidence_file_mib == 0)
        return 0;
    for (int k = 1; k <= o->evidence_files; k++) {
        if ((size_t)snprintf(path, sizeof path, "%s.%d", o->evidence_path, k) >= sizeof path) {
            snprintf(err, errlen, "-w %s: path too long", o->evidence_path);
            return -1;
        }
        if (check_one(o, "-w", o->evidence_path, path, err, errlen) != 0)
            return -1;
    }
    return 0;
}

/* A page is written to FILE.tmp and renamed over FILE: neither may be an
 * input. */
static int check_replaced(const fa_options *o, const char *opt, const char *path, char *err, size_t errlen)
{
    char tmp[4096];
    if (!path)
        return 0;
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", path) >= sizeof tmp) {
        snprintf(err, errlen, "%s %s: path too long", opt, path);
        return -1;
    }
    return check_one(o, opt, path, path, err, errlen) != 0 || check_one(o, opt, path, tmp, err, errlen) != 0
               ? -1 : 0;
}

int fa_outputs_check(const fa_options *o, char *err, size_t errlen)
{
    if (check_replaced(o, "--html", o->html_path, err, errlen) != 0 ||
        check_replaced(o, "--dot", o->dot_path, err, errlen) != 0)
        return -1;
    if (o->json_path && strcmp(o->json_path, "-") != 0 &&
        check_one(o, "-j", o->json_path, o->json_path, err, errlen) != 0)
        return -1;
    if (o->evidence_path &&
        (check_one(o, "-w", o->evidence_path, o->evidence_path, err, errlen) != 0 ||
         check_rotated(o, err, errlen) != 0))
        return -1;
    return 0;
}
