/// Allocator walkers (glibc, jemalloc) behind one allocation-table shape.
enum AllocatorsModule {}
