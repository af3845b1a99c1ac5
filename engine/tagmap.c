/* tagmap.c: being written (placeholder so the tree builds) */
