from django.urls import path

from surveys import views

urlpatterns = [
    path("", views.widget_surveys, name="widget-surveys"),
    path("<int:survey_id>/answer", views.widget_survey_answer, name="widget-survey-answer"),
]
