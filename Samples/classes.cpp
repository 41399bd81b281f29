// classes.cpp - heap objects of many kinds of polymorphic C++ classes.
//
//   classes [multiplier]          (default 1)
//
// Creates, interleaved, multiplier x (Dog 300, Cat 200, Widget 150,
// Diamond 120, Box<int> 90, Box<double> 80, (anonymous namespace)::Hidden 70,
// shapes::Circle 60, std::stringstream 5) objects with operator new and keeps
// them all alive (pointers in an mmap()ed table, not on the heap).
// Covers single inheritance, multiple inheritance (two polymorphic bases),
// a virtual-inheritance diamond, class template instances, a class in an
// anonymous namespace, a class whose vtable is in a shared library
// (libshapes.so; half made by the library's factory, half by `new` here),
// and a libstdc++ class.  Data members hold small integers only.
#include <cxxabi.h>
#include <dlfcn.h>
#include <limits.h>
#include <sstream>
#include <typeinfo>

#include "sample_common.h"
#include "shapes.h"

// ---- single inheritance ------------------------------------------------
struct Animal {
    virtual ~Animal();
    virtual int legs() const = 0;
    long id = 0;
};
struct Dog : Animal {
    int legs() const override;
    long barks = 1;
};
struct Cat : Animal {
    int legs() const override;
    long lives = 9, whiskers = 24;
};
Animal::~Animal() {}
int Dog::legs() const { return 4; }
int Cat::legs() const { return 4; }

// ---- multiple inheritance: two polymorphic bases ---------------------------
struct Drawable {
    virtual ~Drawable();
    virtual long draw() const;
    long x = 1, y = 2;
};
struct Serializable {
    virtual ~Serializable();
    virtual long bytes() const;
    long version = 3;
};
struct Widget : Drawable, Serializable {
    long draw() const override;
    long bytes() const override;
    long flags = 4;
};
Drawable::~Drawable() {}
long Drawable::draw() const { return x; }
Serializable::~Serializable() {}
long Serializable::bytes() const { return version; }
long Widget::draw() const { return flags; }
long Widget::bytes() const { return flags + 1; }

// ---- virtual inheritance diamond ----------------------------------------
struct Base {
    virtual ~Base();
    virtual long value() const;
    long b = 5;
};
struct Left : virtual Base {
    long value() const override;
    long l = 6;
};
struct Right : virtual Base {
    virtual long right() const;
    long r = 7;
};
struct Diamond : Left, Right {
    long value() const override;
    long right() const override;
    long d = 8;
};
Base::~Base() {}
long Base::value() const { return b; }
long Left::value() const { return l; }
long Right::right() const { return r; }
long Diamond::value() const { return d; }
long Diamond::right() const { return d + 1; }

// ---- class template, two instantiations (vtables are COMDAT/weak) -----------
template <class T> struct Box {
    virtual ~Box() {}
    virtual T get() const { return value; }
    T value{};
    long tag = 10;
};

// ---- class in an anonymous namespace (local vtable symbol) ------------------
namespace {
struct Hidden {
    virtual ~Hidden();
    virtual long secret() const;
    long a = 11, b = 12, c = 13;
};
Hidden::~Hidden() {}
long Hidden::secret() const { return a + b + c; }
}  // namespace

// ---- bookkeeping ------------------------------------------------------------
enum { DOG, CAT, WIDGET, DIAMOND, BOXI, BOXD, HIDDEN, CIRCLE, SSTREAM, NCLASSES };

struct ClassInfo {
    const std::type_info *type;
    long base_count;
    size_t size;
    long count;
    long made;
    char name[256];           // demangled, as c++filt prints it
    char mangled_vtable[256]; // "_ZTV" + mangled type name
    char vtable[24];          // value of the first word of an object
    char secondary[4][24];    // other base-subobject vptrs, and their offsets
    long secondary_off[4];
    int nsecondary;
    char module[PATH_MAX];
    char first[3][24];
};

static ClassInfo g_cls[NCLASSES] = {
    {&typeid(Dog), 300, sizeof(Dog), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Cat), 200, sizeof(Cat), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Widget), 150, sizeof(Widget), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Diamond), 120, sizeof(Diamond), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Box<int>), 90, sizeof(Box<int>), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Box<double>), 80, sizeof(Box<double>), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(Hidden), 70, sizeof(Hidden), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(shapes::Circle), 60, sizeof(shapes::Circle), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
    {&typeid(std::stringstream), 5, sizeof(std::stringstream), 0, 0, {}, {}, {}, {}, {}, 0, {}, {}},
};

// All objects, in an mmap()ed table so no heap chunk holds pointers to them.
static void **g_objects;
static long g_nobjects;

static void copy_str(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src);
}

// Runs before the population exists: __cxa_demangle mallocs, and its freed
// result must not end up between the objects.
static void name_classes()
{
    for (ClassInfo &c : g_cls) {
        const char *m = c.type->name();
        snprintf(c.mangled_vtable, sizeof c.mangled_vtable, "_ZTV%s", m);
        int status = 0;
        char *d = abi::__cxa_demangle(m, nullptr, nullptr, &status);
        copy_str(c.name, sizeof c.name, status == 0 && d ? d : m);
        free(d);
    }
}

static uintptr_t word_at(const void *obj, long off)
{
    uintptr_t w;
    memcpy(&w, (const char *)obj + off, sizeof w);
    return w;
}

static void add_secondary(ClassInfo &c, const void *obj, const void *sub)
{
    long off = (const char *)sub - (const char *)obj;
    c.secondary_off[c.nsecondary] = off;
    addr_text(c.secondary[c.nsecondary], sizeof c.secondary[0], (void *)word_at(obj, off));
    c.nsecondary++;
}

// Records the truth about a class from its first live object.
static void describe(int k, void *obj)
{
    ClassInfo &c = g_cls[k];
    uintptr_t vptr = word_at(obj, 0);
    addr_text(c.vtable, sizeof c.vtable, (void *)vptr);
    Dl_info info;
    const char *mod = "?";
    if (dladdr((void *)vptr, &info) && info.dli_fname) {
        const char *slash = strrchr(info.dli_fname, '/');
        mod = slash ? slash + 1 : info.dli_fname;
    }
    copy_str(c.module, sizeof c.module, mod);
    switch (k) {
    case WIDGET: {
        Widget *w = static_cast<Widget *>(obj);
        add_secondary(c, w, static_cast<Serializable *>(w));
        break;
    }
    case DIAMOND: {
        Diamond *d = static_cast<Diamond *>(obj);
        add_secondary(c, d, static_cast<Right *>(d));
        add_secondary(c, d, static_cast<Base *>(d));
        break;
    }
    case SSTREAM: {
        std::stringstream *s = static_cast<std::stringstream *>(obj);
        add_secondary(c, s, static_cast<std::ostream *>(s));
        add_secondary(c, s, static_cast<std::ios_base *>(s));
        break;
    }
    }
}

static __attribute__((noinline)) void *make(int k, long i)
{
    switch (k) {
    case DOG: { Dog *o = new Dog; o->id = i; return o; }
    case CAT: { Cat *o = new Cat; o->id = i; return o; }
    case WIDGET: { Widget *o = new Widget; o->flags = i; return o; }
    case DIAMOND: { Diamond *o = new Diamond; o->d = i; return o; }
    case BOXI: { Box<int> *o = new Box<int>; o->value = (int)i; return o; }
    case BOXD: { Box<double> *o = new Box<double>; o->value = (double)i; return o; }
    case HIDDEN: { Hidden *o = new Hidden; o->a = i; return o; }
    case CIRCLE:
        // alternate: library factory / new in this program (same vtable)
        return (i % 2) ? shapes::make_circle(i) : new shapes::Circle(i);
    case SSTREAM: return new std::stringstream;
    }
    abort();
}

int main(int argc, char **argv)
{
    long mult = arg_count(argc, argv, 1, 1, 100000);
    if (mult < 1) {
        fprintf(stderr, "classes: multiplier must be >= 1\n");
        return 2;
    }
    name_classes();

    long total = 0;
    for (ClassInfo &c : g_cls) {
        c.count = c.base_count * mult;
        total += c.count;
    }
    size_t table = (size_t)(total ? total : 1) * sizeof(void *);
    g_objects = (void **)mmap(nullptr, table, PROT_READ | PROT_WRITE,
                              MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (g_objects == MAP_FAILED)
        abort();

    // Round-robin over the classes so their objects are interleaved.
    for (bool more = true; more;) {
        more = false;
        for (int k = 0; k < NCLASSES; k++) {
            ClassInfo &c = g_cls[k];
            if (c.made == c.count)
                continue;
            void *o = make(k, c.made);
            if (c.made == 0)
                describe(k, o);
            if (c.made < 3)
                addr_text(c.first[c.made], sizeof c.first[0], o);
            g_objects[g_nobjects++] = o;
            c.made++;
            more = true;
        }
    }

    char exe[PATH_MAX], lib[PATH_MAX] = "";
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    exe[n > 0 ? n : 0] = '\0';
    Dl_info info;
    if (dladdr((void *)&shapes::make_circle, &info) && info.dli_fname) {
        if (!realpath(info.dli_fname, lib))
            copy_str(lib, sizeof lib, info.dli_fname);
    }
    scrub_stack();

    out("{\"pid\":%d,\"program\":\"classes\",\"threads\":1,\"multiplier\":%ld,"
        "\"exe\":\"%s\",\"libshapes\":\"%s\",\"object_table\":\"0x%lx\",\"classes\":[",
        (int)getpid(), mult, exe, lib, (unsigned long)g_objects);
    for (int k = 0; k < NCLASSES; k++) {
        ClassInfo &c = g_cls[k];
        out("%s{\"name\":\"%s\",\"mangled_vtable\":\"%s\",\"count\":%ld,\"size\":%zu,"
            "\"vtable\":\"%s\",\"secondary_vptrs\":",
            k ? "," : "", c.name, c.mangled_vtable, c.count, c.size, c.vtable);
        out_text_list(c.secondary, (size_t)c.nsecondary);
        out(",\"secondary_vptr_offsets\":[");
        for (int s = 0; s < c.nsecondary; s++)
            out("%s%ld", s ? "," : "", c.secondary_off[s]);
        out("],\"module\":\"%s\",\"addresses\":", c.module);
        out_text_list(c.first, (size_t)(c.count < 3 ? c.count : 3));
        out("}");
    }
    out("]}");
    finish_and_stop();
}
