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

#include <errno.h>
#include <pthread.h>
#include <spawn.h>

// glibc 2.34+ declares this only with _GNU_SOURCE: closes every descriptor from `from` up in the spawned child.
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);

static inline int kiln_spawn_file_actions_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}

struct kiln_network_namespace_request {
    const char *path;
    int error;
};

static inline void *kiln_network_namespace_thread(void *argument) {
    struct kiln_network_namespace_request *request = argument;
    if (syscall(SYS_unshare, 0x40000000 /* CLONE_NEWNET */) != 0) {
        request->error = errno;
    } else if (mount("/proc/thread-self/ns/net", request->path, (void *)0, MS_BIND, (void *)0) != 0) {
        request->error = errno;
    }
    return (void *)0;
}

// Makes a network namespace and binds it to `path` (an existing file), as `unshare --net=PATH` does, without
// starting a process: a thread of its own enters the new namespace and ends, so no other thread's namespace
// ever changes. Returns 0 or an errno.
static inline int kiln_make_network_namespace(const char *path) {
    struct kiln_network_namespace_request request = { path, 0 };
    pthread_t thread;
    int status = pthread_create(&thread, (void *)0, kiln_network_namespace_thread, &request);
    if (status != 0) return status;
    pthread_join(thread, (void *)0);
    return request.error;
}
