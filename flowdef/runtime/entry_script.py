# flowdef function-task entry point, uploaded to <root>/lib/flowdef_entry.py and run by Databricks as a
# spark_python_task.  It makes the project files (<root>/files) and the flowdef runtime (<root>/lib) importable,
# then runs the function named by --module/--function with a TaskContext.
import os
import sys

try:
    _here = os.path.dirname(os.path.abspath(__file__))
except NameError:  # some launchers exec the file without __file__
    _here = os.path.dirname(os.path.abspath(sys.argv[0]))

for _path in (os.path.join(os.path.dirname(_here), "files"), _here):
    if _path not in sys.path:
        sys.path.insert(0, _path)

from flowdef.runtime import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
