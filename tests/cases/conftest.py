import pytest

from tests.sight import make_world


@pytest.fixture
def world(db):
    return make_world()
