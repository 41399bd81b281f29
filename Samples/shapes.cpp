// shapes.cpp - libshapes.so: shapes::Circle and its factory.
#include "shapes.h"

namespace shapes {

Circle::Circle(long r) : radius(r), id(r * 2 + 1) {}
Circle::~Circle() {}
long Circle::area() const { return 3 * radius * radius; }

Circle *make_circle(long radius) { return new Circle(radius); }

}  // namespace shapes
