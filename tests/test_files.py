"""reading/files.py: the collector's tuning for a validation or a build (``gc_tuned``) is scoped: it
gives back what it changed, whatever happens inside, and leaves a caller's own freeze alone."""

import gc

import pytest

from peacetalks.checks.validate import validate
from peacetalks.cli import main
from peacetalks.defaults import GC_THRESHOLD
from peacetalks.reading.files import gc_tuned


@pytest.fixture
def default_gc():
    """A process as Python starts it: default thresholds, nothing frozen; put back afterwards."""
    was = gc.get_threshold()
    gc.unfreeze()
    gc.set_threshold(700, 10, 10)
    yield
    gc.unfreeze()
    gc.set_threshold(*was)


def test_tuned_inside_and_given_back_after(default_gc):
    alive = [object() for _ in range(10)]  # (something tracked is alive on entry)
    with gc_tuned():
        assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_freeze_count() > 0  # what was alive is not walked again
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
    assert alive


def test_given_back_after_an_exception(default_gc):
    with pytest.raises(ZeroDivisionError):
        with gc_tuned():
            1 / 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_block_inside_another_changes_nothing(default_gc):
    with gc_tuned():
        with gc_tuned():
            assert gc.get_threshold() == GC_THRESHOLD
        assert gc.get_threshold() == GC_THRESHOLD  # the inner block's end gives nothing back yet
        assert gc.get_freeze_count() > 0
        before = gc.get_freeze_count()
        imported = [[i] for i in range(1000)]  # (as a command's imports: alive since the outer block began)
        with gc_tuned():
            assert gc.get_freeze_count() >= before + len(imported)  # frozen too, by the inner block
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_callers_own_freeze_is_left_as_it_was(default_gc):
    gc.set_threshold(1000, 5, 5)
    gc.freeze()  # (as a server does before it forks its workers)
    with gc_tuned():
        assert gc.get_threshold() == GC_THRESHOLD
    assert gc.get_freeze_count() > 0  # still frozen (less what died since: freed objects leave it)
    assert gc.get_threshold() == (1000, 5, 5)


def test_validate_gives_the_collector_back(default_gc, project):
    result = validate(project)
    assert result.ok
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0


def test_a_command_gives_the_collector_back(default_gc, project, capsys):
    assert main(["--root", str(project.root), "validate"]) == 0
    assert gc.get_threshold() == (700, 10, 10)
    assert gc.get_freeze_count() == 0
