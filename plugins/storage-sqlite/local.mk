# plugins/storage-sqlite: filled in by its owner
