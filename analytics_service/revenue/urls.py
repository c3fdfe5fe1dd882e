"""Analytics routes: reads only (the events are its one way in)."""

from django.urls import path

from analytics_service.revenue import apis

urlpatterns = [
    path("revenue/", apis.DailyRevenueListApi.as_view(), name="daily-revenue-list"),
]
