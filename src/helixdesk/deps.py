"""FastAPI dependencies as `Annotated` aliases."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from helixdesk.abuse import AbuseLimits
from helixdesk.container import Container
from helixdesk.conversations.service import ConversationService


def _container(request: Request) -> Container:
    container: Container = request.app.state.container
    return container


def _conversations(request: Request) -> ConversationService:
    return _container(request).conversations


def _limits(request: Request) -> AbuseLimits:
    return _container(request).limits


ContainerDep = Annotated[Container, Depends(_container)]
ConversationsDep = Annotated[ConversationService, Depends(_conversations)]
LimitsDep = Annotated[AbuseLimits, Depends(_limits)]
