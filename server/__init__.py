"""The WGSL language server: LSP in, engine calls out."""
