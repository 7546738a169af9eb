"""Analytics over REST: the dashboard and its CSV (/api/analytics/...), and the stats of the four apps
(/api/apps/<app>/stats): each app's own numbers plus, under "analytics", what the dashboard shows for it.

Included before the apps' own routers, so these stats routes are the ones served. Periods are months YYYY-MM;
another format answers 422, another user's brand kit 404. The CSV link works from a browser page too: the
session cookie authenticates it like a bearer token."""
from __future__ import annotations

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import Services, SessionDep, UserDep
from api.params import INT64_MAX
from core import apps
from core.analytics import report

router = APIRouter(tags=["analytics"])

KitQuery = Query(None, alias="brandKitId", ge=1, le=INT64_MAX, description="only this brand kit (one of yours)")
# The month format is checked by core (its message names the format); the schema shows the same rule.
_MONTH = {"pattern": report.PERIOD_PATTERN}
FromQuery = Query(None, alias="from", description="first month, YYYY-MM (years 1000-9999)", json_schema_extra=_MONTH)
ToQuery = Query(None, alias="to", description="last month, YYYY-MM (years 1000-9999)", json_schema_extra=_MONTH)


@router.get("/api/analytics/dashboard")
def dashboard(session: SessionDep, user: UserDep, services: Services, brand_kit_id: int | None = KitQuery,
              period_from: str | None = FromQuery, period_to: str | None = ToQuery) -> dict:
    """Totals per design type, usage and savings per month, success rate by pose category, formats, GPU time
    and cost per accepted image, and the assumptions behind the Rupiah figures."""
    return report.dashboard(session, user=user, brand_kit_id=brand_kit_id, period_from=period_from,
                            period_to=period_to, settings=services.settings)


@router.get("/api/analytics/export.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}, "description": "one row per month and design type"}})
def export_csv(session: SessionDep, user: UserDep, services: Services, brand_kit_id: int | None = KitQuery,
               period_from: str | None = FromQuery, period_to: str | None = ToQuery):
    text = report.csv_export(session, user=user, brand_kit_id=brand_kit_id, period_from=period_from,
                             period_to=period_to, settings=services.settings)
    name = "analytics" + (f"_kit{brand_kit_id}" if brand_kit_id else "") + \
        (f"_{period_from}" if period_from else "") + (f"_to_{period_to}" if period_to else "") + ".csv"
    return Response(text, media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _stats(app_id: str):
    def stats(session: SessionDep, user: UserDep, services: Services) -> dict:
        return apps.app_stats(session, user=user, app_id=app_id, settings=services.settings)

    stats.__name__ = f"{app_id.replace('-', '_')}_stats"
    stats.__doc__ = f"The {app_id} app's numbers, with what the analytics dashboard shows for it under `analytics`."
    return stats


for _app in apps.APP_IDS:
    router.add_api_route(f"/api/apps/{_app}/stats", _stats(_app), methods=["GET"], tags=[_app, "analytics"])
