/// Classifier, reachability and diff over the lower layers.
enum AnalysisModule {}
