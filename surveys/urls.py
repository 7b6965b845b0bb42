from django.urls import path

from surveys import views

urlpatterns = [
    path("<str:token>/", views.survey_page, name="survey-page"),
]
