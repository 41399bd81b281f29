/// SIMD scan kernels over raw bytes: find, word histogram, pointer census. Pure Swift.
enum ScanKernelsModule {}
