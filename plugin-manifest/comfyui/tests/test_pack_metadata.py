"""The registry metadata and the pack's promise to add nothing to ComfyUI."""

import ast
import tomllib
import unittest

from tests import support

# What ComfyUI itself ships (and the standard library): the only imports the pack may make.
HOST_MODULES = {"numpy", "PIL", "torch", "aiohttp", "server", "folder_paths", "comfy", "comfy_execution"}


class PackMetadataTest(unittest.TestCase):
    def test_pyproject_has_project_and_tool_comfy(self):
        meta = tomllib.loads((support.PACK / "pyproject.toml").read_text())
        self.assertEqual(meta["project"]["name"], "comfyui-agiqa")
        self.assertRegex(meta["project"]["version"], r"^\d+\.\d+\.\d+$")
        self.assertEqual(meta["project"]["dependencies"], [])
        self.assertTrue(meta["tool"]["comfy"]["PublisherId"])
        self.assertTrue(meta["tool"]["comfy"]["DisplayName"])

    def test_the_code_imports_only_the_standard_library_and_what_comfyui_ships(self):
        import sys

        files = [support.PACK / "__init__.py", *sorted((support.PACK / "agiqa_nodes").glob("*.py"))]
        for path in files:
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                names = []
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                for name in names:
                    top = name.split(".")[0]
                    with self.subTest(file=path.name, module=name):
                        self.assertTrue(top in sys.stdlib_module_names or top in HOST_MODULES, name)


if __name__ == "__main__":
    unittest.main()
