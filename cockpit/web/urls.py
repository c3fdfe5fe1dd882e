from django.urls import path

from cockpit.web import browse_views, job_views, views, workshop_views

urlpatterns = [
    path("", views.overview, name="overview"),
    path("health/", views.health, name="health"),
    path("diagram/", views.diagram, name="diagram"),
    path("jwt/", views.platform_jwt, name="jwt"),
    path("switch/", job_views.switch, name="switch"),
    path("scenarios/", job_views.run_scenario, name="run-scenario"),
    path("jobs/<int:job_id>/", job_views.job_detail, name="job"),
    path(
        "services/<str:service>/<str:action>/",
        job_views.service_web,
        name="service-web",
    ),
    path("events/", browse_views.find_events, name="find-events"),
    path(
        "events/<str:aggregate>/<uuid:aggregate_id>/",
        browse_views.events,
        name="events",
    ),
    path("traces/<str:trace_id>/", browse_views.trace, name="trace"),
    path("reports/", views.reports, name="reports"),
    path("workshop/", workshop_views.workshop, name="workshop"),
    path(
        "workshop/<int:number>/run/",
        workshop_views.run_step,
        name="workshop-step",
    ),
    path(
        "workshop/migration/run/",
        workshop_views.run_migration,
        name="workshop-migration",
    ),
    path("results/recent/", views.recent_results, name="recent-results"),
]
