import CElfutils

/// Modules and symbols of a core through libdwfl; the only place C interop lives.
enum SymbolsModule {}
