"""Administration over HTTP: people's accounts and service tokens (admin only)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, status
from pydantic import BaseModel, Field

from api.auth import Admin, forget_tokens
from api.deps import ServicesDep
from schemas.auth import Role, Scope, TokenOut, UserOut
from store import unit_of_work
from store.accounts.auth import (
    create_token,
    create_user,
    list_tokens,
    list_users,
    revoke_token,
    token_out,
    update_user,
    user_out,
)
from store.platform.models import utcnow

router = APIRouter(prefix="/api/v1", tags=["admin"])


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=100, pattern=r"^[\w.@-]+$")
    password: str = Field(min_length=8, max_length=1000)
    role: Role
    units: list[str] = Field(default_factory=list, max_length=500)
    full_name: str | None = Field(default=None, max_length=200)


class UserChange(BaseModel):
    role: Role | None = None
    units: list[str] | None = Field(default=None, max_length=500)
    active: bool | None = None
    full_name: str | None = Field(default=None, max_length=200)


class NewToken(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    scopes: list[Scope] = Field(min_length=1)
    units: list[str] | None = Field(default=None, max_length=500)
    days: int | None = Field(default=None, ge=1, le=3650, description="Expires after")


class CreatedToken(TokenOut):
    token: str = Field(description="The token itself: shown only in this response")


@router.get("/users", response_model=list[UserOut])
def get_users(_: Admin, svc: ServicesDep) -> list[UserOut]:
    with unit_of_work(svc.sessions) as session:
        return list(list_users(session))


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def post_user(body: NewUser, principal: Admin, svc: ServicesDep) -> UserOut:
    with unit_of_work(svc.sessions) as session:
        user = create_user(
            session,
            body.username,
            body.password,
            body.role,
            units=body.units,
            full_name=body.full_name,
            actor=principal.actor,
        )
        return user_out(user)


@router.patch("/users/{username}", response_model=UserOut)
def patch_user(
    username: Annotated[str, Path(max_length=100)],
    body: UserChange,
    principal: Admin,
    svc: ServicesDep,
) -> UserOut:
    with unit_of_work(svc.sessions) as session:
        user = update_user(
            session,
            username,
            actor=principal.actor,
            role=body.role,
            units=body.units,
            active=body.active,
            full_name=body.full_name,
        )
        return user_out(user)


@router.get("/tokens", response_model=list[TokenOut])
def get_tokens(_: Admin, svc: ServicesDep) -> list[TokenOut]:
    with unit_of_work(svc.sessions) as session:
        return list(list_tokens(session))


@router.post("/tokens", response_model=CreatedToken, status_code=status.HTTP_201_CREATED)
def post_token(body: NewToken, principal: Admin, svc: ServicesDep) -> CreatedToken:
    expires: datetime | None = utcnow() + timedelta(days=body.days) if body.days else None
    with unit_of_work(svc.sessions) as session:
        plaintext, row = create_token(
            session,
            body.name,
            [s.value for s in body.scopes],
            units=body.units,
            expires_at=expires,
            actor=principal.actor,
        )
        return CreatedToken(**token_out(row).model_dump(), token=plaintext)


@router.delete("/tokens/{token_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_token(
    token_id: Annotated[int, Path(ge=1, le=2**31 - 1)], principal: Admin, svc: ServicesDep
) -> None:
    with unit_of_work(svc.sessions) as session:
        if not revoke_token(session, token_id, actor=principal.actor):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such active token")
    forget_tokens()  # at once here; other API processes within TOKEN_CACHE_SECONDS
