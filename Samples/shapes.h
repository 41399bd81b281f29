// shapes.h - a polymorphic class that lives in a shared library
// (libshapes.so), so its vtable is in another module than the program's.
#pragma once

namespace shapes {

class Circle {
public:
    // Out of line (in shapes.cpp) on purpose: the program must never refer
    // to the vtable symbol itself, otherwise the linker could give the
    // executable a copy-relocated copy of _ZTVN6shapes6CircleE and the
    // objects' vptrs would point into the executable instead of the library.
    explicit Circle(long radius);
    virtual ~Circle();
    virtual long area() const;   // key function: vtable emitted in libshapes.so
    long radius;
    long id;
};

// Factory inside the library.
Circle *make_circle(long radius);

}  // namespace shapes
