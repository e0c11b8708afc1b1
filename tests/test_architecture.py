# This file is part of lk.  The COPYRIGHT file at the top level of
# this repository contains the full copyright notices and license terms.
"""The portal is a framework that features plug into (DESIGN.md): lk_portal
names no feature module, a module imports no private name of another, and
the modules of lk_portal import each other without cycles."""
import ast
import configparser
from pathlib import Path

ADDONS = Path(__file__).resolve().parent.parent / 'addons'
PREFIX = 'trytond.modules.'


def sources(module):
    return sorted(
        p for p in (ADDONS / module).rglob('*.py')
        if 'tests' not in p.relative_to(ADDONS).parts)


def modules():
    return sorted(
        p.name for p in ADDONS.iterdir() if (p / 'tryton.cfg').is_file())


def imports(path):
    """(module imported, names) of the file's imports, relative ones made
    absolute"""
    package = PREFIX + '.'.join(path.relative_to(ADDONS).parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit('.', node.level - 1)[0] \
                    if node.level > 1 else package
                name = f'{base}.{node.module}' if node.module else base
            else:
                name = node.module or ''
            yield name, [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []


def test_portal_names_no_feature():
    "Neither lk_portal's code nor its tryton.cfg names a feature module"
    features = set(modules()) - {'lk_base', 'lk_portal'}
    assert features, "the feature modules are missing"
    found = []
    for path in [*sources('lk_portal'), ADDONS / 'lk_portal' / 'tryton.cfg',
            *(ADDONS / 'lk_portal' / 'templates').glob('*.html')]:
        text = path.read_text(encoding='utf-8')
        found += [f'{path.name}: {f}' for f in features if f in text]
    assert not found


def test_no_private_names_across_modules():
    "A module uses only the public names of another"
    found = []
    for module in modules():
        for path in sources(module):
            for name, names in imports(path):
                if not name.startswith(PREFIX):
                    continue
                other = name[len(PREFIX):].split('.')[0]
                if other == module:
                    continue
                found += [
                    f'{path.relative_to(ADDONS)}: {name}.{n}'
                    for n in names if n.startswith('_')]
    assert not found


def test_portal_imports_without_cycles():
    "The files of lk_portal import each other as a tree, not a cycle"
    package = PREFIX + 'lk_portal'
    graph = {}
    for path in sources('lk_portal'):
        name = f'{package}.{path.stem}' if path.stem != '__init__' \
            else package
        graph[name] = set()
        for imported, names in imports(path):
            targets = {imported} | {f'{imported}.{n}' for n in names}
            graph[name] |= {
                t for t in targets
                if t.startswith(package + '.') and t.count('.') == 3}
    graph.pop(package, None)

    def cycle(node, path):
        if node in path:
            return path[path.index(node):] + [node]
        for target in graph.get(node, ()):
            if found := cycle(target, path + [node]):
                return found
    for node in graph:
        assert not cycle(node, []), cycle(node, [])


def test_features_register_portal_part_with_lk_portal():
    """A module extending lk.portal does it only under [register lk_portal]
    with lk_portal as an extras_depend, so without lk_portal it works"""
    extending = []
    for module in modules():
        if module == 'lk_portal':
            continue
        config = configparser.ConfigParser()
        config.read(ADDONS / module / 'tryton.cfg')
        depends = config.get('tryton', 'depends', fallback='').split()
        assert 'lk_portal' not in depends, module
        for section in config.sections():
            classes = config.get(section, 'model', fallback='').split()
            if 'portal.Portal' in classes:
                assert section == 'register lk_portal', module
                assert 'lk_portal' in config.get(
                    'tryton', 'extras_depend', fallback='').split(), module
                extending.append(module)
    assert 'lk_metering' in extending
