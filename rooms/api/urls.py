from django.urls import path

from config.transactions import atomic_writes
from rooms.api import views

urlpatterns = [
    path("v2/rooms", atomic_writes(views.RoomsView.as_view()), name="rooms"),
    path("v2/rooms/<str:room_id>", atomic_writes(views.RoomView.as_view()), name="room"),
    path("v2/sections", views.SectionsView.as_view(), name="sections"),
    path("v2/sections/<str:section_id>", views.SectionView.as_view(), name="section"),
    path("v2/pages", views.PagesView.as_view(), name="pages"),
    path("v2/pages/<str:page_id>", views.PageView.as_view(), name="page"),
    path("v2/action-items", views.ActionItemsView.as_view(), name="action-items"),
    path("v2/action-items/<str:action_id>", views.ActionItemView.as_view(), name="action-item"),
    path("v2/statuses", views.StatusesView.as_view(), name="statuses"),
    path("v2/companies", views.CompaniesView.as_view(), name="companies"),
    path("v2/labels", views.LabelsView.as_view(), name="labels"),
    path("v2/users", views.UsersView.as_view(), name="users"),
    path("v2/templates", views.TemplatesView.as_view(), name="templates"),
]
