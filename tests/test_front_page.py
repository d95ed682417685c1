import pytest

pytestmark = pytest.mark.django_db


def test_the_front_page_leads_to_the_admin_dashboard(client):
    response = client.get("/")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
