"""A new dataset in a real browser: drop a file, change a kind, watch the job, see the table."""

import threading

import pytest

from bandersnatch.tests.browser import CHARTS_DRAWN, chromium_page, wait_until

CSV = "City,Population,Coastal,Region,Area\n" + "".join(
    f"Town {i},{1000 + i * 37},{'yes' if i % 3 else 'no'},{['North', 'South', 'East'][i % 3]},{i * 2.5}\n"
    for i in range(60)
)
PASSWORD = "a-long-browser-password"


@pytest.fixture
def member(transactional_db, settings, tmp_path):
    from django.contrib.auth.models import User

    settings.MEDIA_ROOT = tmp_path / "media"
    return User.objects.create_user("member", password=PASSWORD)


def run_worker_in_a_thread() -> None:
    """The queued job, run by our db_worker's Worker, outside Playwright's event loop (and its signals)."""
    from django.db import connections

    from bandersnatch.management.commands.db_worker import Worker

    def work() -> None:
        worker = Worker(
            queue_names=["default"], interval=0, batch=True, backend_name="default", startup_delay=False,
            max_tasks=None, worker_id="browser-test", excluded_queue_names=[],
        )  # fmt: skip
        try:
            worker.run()
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(timeout=60)


def test_drop_a_file_change_a_kind_load_it_and_see_the_table(member, live_server):
    with chromium_page(width=1280, height=900) as page:
        page.goto(f"{live_server.url}/accounts/login/?next=/datasets/new/")
        page.fill("input[name=username]", "member")
        page.fill("input[name=password]", PASSWORD)
        page.click("main button[type=submit], form button:has-text('Sign in')")
        page.wait_for_url("**/datasets/new/")
        page.evaluate(
            """csv => {
                const transfer = new DataTransfer();
                transfer.items.add(new File([csv], "towns.csv", {type: "text/csv"}));
                const zone = document.querySelector("[data-drop-zone]");
                const drop = {dataTransfer: transfer, bubbles: true, cancelable: true};
                zone.dispatchEvent(new DragEvent("drop", drop));
            }""",
            CSV,
        )
        assert page.locator("[data-drop-file]").text_content().startswith("towns.csv")
        page.fill("input[name=name]", "Towns")
        page.click("button:has-text('Preview')")
        page.wait_for_url("**/datasets/new/*/")
        assert page.locator("select[name=kind_1]").input_value() == "integer"
        page.select_option("select[name=kind_1]", "number")  # Population as a number
        page.click("button:has-text('Load')")
        page.wait_for_url("**/ops/jobs/*/")
        run_worker_in_a_thread()
        page.wait_for_selector(".badge.job-succeeded", timeout=20_000)  # the page reloads itself
        assert "Loaded 60 rows and 5 columns as Towns." in page.text_content("main")
        page.click("text=See the table")
        page.wait_for_url("**/datasets/towns/")
        assert "60 matching rows" in page.text_content(".table-summary")
        page.click("th a:has-text('Population')")  # sort by it
        page.wait_for_url("**sort=population**")
        assert page.locator("tbody tr td:nth-child(3)").first.text_content().strip() == "1000.0"
        page.click("text=Statistics of every column")
        wait_until(page, CHARTS_DRAWN)
        assert page.locator("[data-figure]").count() >= 3  # the distributions, drawn

        page.click("main a:has-text('Charts')")
        page.wait_for_url("**/datasets/towns/view/")
        page.wait_for_selector("#chart .main-svg", timeout=15_000)
        assert page.locator("#chart .xtitle").text_content() == "Population"
        assert page.locator("#chart .ytitle").text_content() == "Area"
        assert page.locator("#chart .legendtext").count() == 2  # coloured by Coastal (the first few-valued)
        box = page.locator("#chart .nsewdrag").bounding_box()  # a box over the plot's middle
        page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
        page.mouse.down()
        page.mouse.move(box["x"] + box["width"] * 0.7, box["y"] + box["height"] * 0.7, steps=8)
        page.mouse.up()
        page.wait_for_url("**/datasets/towns/?*population_min=*")  # the table, filtered to the box
        assert "area_min=" in page.url and "matching row" in page.text_content(".table-summary")


def test_a_text_filter_suggests_the_columns_values(transactional_db, live_server):
    import io

    from analytics.datasets import dataset_create

    towns = [
        f"{start}{end}"
        for start in ("Ash", "Oak", "Bridge", "Stone", "Mill")
        for end in ("ford", "ham", "ton")
    ]
    file = io.BytesIO(("Town,People\n" + "".join(f"{town},{n}\n" for n, town in enumerate(towns))).encode())
    file.name = "towns.csv"
    dataset = dataset_create(file=file, name="Towns", is_public=True)
    with chromium_page(width=1280, height=900) as page:
        page.goto(f"{live_server.url}{dataset.get_absolute_url()}")
        town = page.locator("#id_town_contains")
        town.press_sequentially("FOR", delay=50)
        page.wait_for_selector("#id_town_contains-suggestions [role=option]")
        assert page.locator("#id_town_contains-suggestions [role=option]").all_text_contents() == [
            "Ashford", "Bridgeford", "Millford", "Oakford", "Stoneford",
        ]  # fmt: skip
        town.press("ArrowDown")
        town.press("Enter")
        assert town.input_value() == "Ashford"
        with page.expect_navigation():
            town.press("Enter")
        assert "town_contains=Ashford" in page.url and "people_min" not in page.url
        assert "Row 1 of 1 matching row" in " ".join(page.text_content(".table-summary").split())
