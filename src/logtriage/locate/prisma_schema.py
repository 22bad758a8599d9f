"""Prisma schemas (``schema.prisma``): models, their tables (``@@map``) and relation fields.

The schema language is declarative — blocks of ``name Type attributes`` lines, no expressions —
so it is read block by block here; no grammar for it ships with ast-grep. Prisma has no lazy
loading: its N+1s are explicit queries in loops, found by the JavaScript scanner's loop search
through the model's name.
"""

from __future__ import annotations

import re

from logtriage.locate.code_facts import (
    FileFacts,
    FunctionDecl,
    LoopHit,
    LoopTargets,
    ModelDecl,
    RelationDecl,
)

_BLOCK = re.compile(r"^\s*model\s+(\w+)\s*\{\s*$")
_FIELD = re.compile(r"^\s*(\w+)\s+(\w+)(\[\])?(\?)?(.*)$")
_MAP = re.compile(r'^\s*@@map\(\s*(?:name:\s*)?"([^"]+)"\s*\)')


class PrismaScanner:
    """Reads ``.prisma`` files: models only."""

    language = "prisma"

    def scan(self, rel: str, text: str) -> FileFacts:
        """The models of one schema file."""
        facts = FileFacts()
        blocks: list[tuple[str, int, list[tuple[int, str]]]] = []
        current: tuple[str, int, list[tuple[int, str]]] | None = None
        for number, raw in enumerate(text.splitlines(), 1):
            line = raw.split("//", 1)[0]
            if current is None:
                match = _BLOCK.match(line)
                if match:
                    current = (match.group(1), number, [])
            elif line.strip() == "}":
                blocks.append(current)
                current = None
            else:
                current[2].append((number, line))
        names = {name for name, _, _ in blocks}
        for name, start, body in blocks:
            table = name
            relations: list[RelationDecl] = []
            for number, line in body:
                mapped = _MAP.match(line)
                if mapped:
                    table = mapped.group(1)
                    continue
                field = _FIELD.match(line)
                if field and field.group(2) in names:
                    kind = "to-many" if field.group(3) else "to-one"
                    relations.append(RelationDecl(field.group(1), field.group(2), number, kind))
            facts.models.append(
                ModelDecl(name, table.lower(), rel, start, "prisma", tuple(relations))
            )
        return facts

    def loops(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> list[LoopHit]:
        """A schema has no code."""
        return []

    def calls(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """A schema has no code."""
        return set()

    def queries(self, rel: str, text: str, func: FunctionDecl, targets: LoopTargets) -> bool:
        """A schema has no code."""
        return False

    def type_names(self, rel: str, text: str) -> set[str]:
        """A schema has no code."""
        return set()

    def eager_in(self, rel: str, text: str, func: FunctionDecl) -> set[str]:
        """A schema has no code."""
        return set()

    def file_loops(
        self, rel: str, text: str, targets: LoopTargets, eager: set[str]
    ) -> list[LoopHit]:
        """A schema has no code."""
        return []
