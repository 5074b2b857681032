"""The campaign page's run history shows each run's funnel (from the reports' counters) and leads to its report."""

from tests.factories import ManagerFactory
from tests.reports.conftest import build_run


def test_each_run_on_the_campaign_page_shows_its_funnel(client, db):
    run, _rows = build_run()
    client.force_login(ManagerFactory())
    page = client.get(f"/admin/ace_admin/campaign/{run.campaign.pk}/change/").content.decode()
    cell = page.split(f'class="ace-funnel" data-run="{run.pk}">', 1)[1].split("</td>", 1)[0]
    # 10 sent, 9 delivered; 3 people opened and 3 clicked (machines apart): rates over the delivered.
    assert f'href="/admin/ace_admin/eventdailycount/run/{run.pk}/"' in cell  # the run's report
    assert "9 delivered" in cell and "3 opened (33%)" in cell and "3 clicked (33%)" in cell
    assert "1 bounced" in cell and "1 complaints" in cell
