"""LibCST codemod commands for this checkout; see `.libcst.codemod.yaml` at the root."""
