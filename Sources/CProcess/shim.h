// The Linux calls Swift's Glibc module does not surface: ptrace (variadic in glibc),
// process_vm_readv, memfd_create, fallocate, and the register and note constants of a live process.
// CoreSources is the only Swift module that imports this.
// No _GNU_SOURCE here: it would change glibc's declarations under those Swift's Glibc module
// already has, so the two GNU calls are declared as glibc exports them.
#include <sys/types.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/uio.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <elf.h>
#include <signal.h>
#include <linux/memfd.h>
#include <linux/falloc.h>

int memfd_create(const char *name, unsigned int flags);
int fallocate(int fd, int mode, off_t offset, off_t length);
ssize_t process_vm_readv(pid_t pid, const struct iovec *local, unsigned long localCount,
                         const struct iovec *remote, unsigned long remoteCount, unsigned long flags);

static inline long heapscan_ptrace(int request, pid_t pid, void *address, void *data) {
    return ptrace((enum __ptrace_request)request, pid, address, data);
}

static inline int heapscan_memfd_create(const char *name) {
    return memfd_create(name, MFD_CLOEXEC);
}

static inline ssize_t heapscan_process_vm_readv(pid_t pid, const struct iovec *local, unsigned long localCount,
                                                const struct iovec *remote, unsigned long remoteCount) {
    return process_vm_readv(pid, local, localCount, remote, remoteCount, 0);
}

enum {
    heapscan_ptrace_seize = PTRACE_SEIZE,
    heapscan_ptrace_interrupt = PTRACE_INTERRUPT,
    heapscan_ptrace_detach = PTRACE_DETACH,
    heapscan_ptrace_getregset = PTRACE_GETREGSET,
    heapscan_wait_all = __WALL,
    heapscan_nt_prstatus = NT_PRSTATUS,
};
