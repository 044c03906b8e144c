// Linux interfaces Glibc's Swift module does not export.
#include <sys/xattr.h>
