// The C surface heapscan uses: libdwfl (modules of a core, symbols, build-ids), libdw (DWARF
// type sizes), libelf, libdebuginfod (module files by build-id), and libstdc++'s demangler. Symbols is the only Swift module that imports this.
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <elfutils/libdwelf.h>
#include <elfutils/debuginfod.h>
#include <dwarf.h>
#include <libelf.h>
#include <gelf.h>
#include <stddef.h>

char *__cxa_demangle(const char *mangled_name, char *output_buffer, size_t *length, int *status);
