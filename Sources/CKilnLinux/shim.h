// Linux interfaces Glibc's Swift module does not export.
#include <sys/xattr.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/prctl.h>
#include <sys/vfs.h>
#include <unistd.h>

// The new mount API (Linux 5.2+); glibc wrappers are too recent to rely on, the syscall numbers are the
// same on every architecture.
enum {
    KILN_FSOPEN_CLOEXEC = 1,
    KILN_FSCONFIG_SET_STRING = 1,
    KILN_FSCONFIG_CMD_CREATE = 6,
    KILN_FSMOUNT_CLOEXEC = 1,
    KILN_MOVE_MOUNT_F_EMPTY_PATH = 4,
};

static inline int kiln_fsopen(const char *fs_name, unsigned int flags) {
    return (int)syscall(430, fs_name, flags);
}

static inline int kiln_fsconfig(int fd, unsigned int cmd, const char *key, const char *value, int aux) {
    return (int)syscall(431, fd, cmd, key, value, aux);
}

static inline int kiln_fsmount(int fd, unsigned int flags, unsigned int attributes) {
    return (int)syscall(432, fd, flags, attributes);
}

static inline int kiln_move_mount(int from_fd, const char *from_path, int to_fd, const char *to_path, unsigned int flags) {
    return (int)syscall(429, from_fd, from_path, to_fd, to_path, flags);
}

static inline int kiln_mount(const char *source, const char *target, const char *type, unsigned long flags, const char *data) {
    return mount(source, target, type, flags, data);
}

static inline int kiln_umount(const char *target, int flags) {
    return umount2(target, flags);
}

static inline int kiln_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

static inline long kiln_copy_file_range(int in_fd, int out_fd, unsigned long length) {
    return syscall(SYS_copy_file_range, in_fd, (void *)0, out_fd, (void *)0, length, 0);
}

// pipe2 with O_CLOEXEC, so a pipe made for one child never leaks into another spawned meanwhile.
static inline int kiln_pipe_cloexec(int fds[2]) {
    return (int)syscall(SYS_pipe2, fds, 02000000 /* O_CLOEXEC */);
}
