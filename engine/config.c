/* config.c: being written (placeholder so the tree builds) */
int config_placeholder_unused;
