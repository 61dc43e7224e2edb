"""fastapi-users 15 reference app of the load benchmark (third column, bench/run.py).

The quickstart's routes on fastapi-users' documented setup: SQLAlchemy user table on the same
SQLite file (aiosqlite), a bearer and a cookie backend on one JWTStrategy with the same secret,
the default UserManager (argon2id through pwdlib, m=65536, t=3, p=4, so the hashes axum-users
wrote verify without an upgrade).

    AUTH_SECRET=... BENCH_DB=/path/bench.db uvicorn fastapi_users_app:app --app-dir bench
"""

import os
import uuid

from fastapi import Depends, FastAPI
from fastapi_users import BaseUserManager, FastAPIUsers, UUIDIDMixin, schemas
from fastapi_users.authentication import (
    AuthenticationBackend,
    BearerTransport,
    CookieTransport,
    JWTStrategy,
)
from fastapi_users.db import SQLAlchemyBaseUserTableUUID, SQLAlchemyUserDatabase
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase

SECRET = os.environ["AUTH_SECRET"]
DATABASE_URL = "sqlite+aiosqlite:///" + os.environ["BENCH_DB"]


class Base(DeclarativeBase):
    pass


class User(SQLAlchemyBaseUserTableUUID, Base):
    pass


class UserRead(schemas.BaseUser[uuid.UUID]):
    pass


class UserCreate(schemas.BaseUserCreate):
    pass


class UserUpdate(schemas.BaseUserUpdate):
    pass


engine = create_async_engine(DATABASE_URL)
session_maker = async_sessionmaker(engine, expire_on_commit=False)


async def get_session():
    async with session_maker() as session:
        yield session


async def get_user_db(session=Depends(get_session)):
    yield SQLAlchemyUserDatabase(session, User)


class UserManager(UUIDIDMixin, BaseUserManager[User, uuid.UUID]):
    reset_password_token_secret = SECRET
    verification_token_secret = SECRET


async def get_user_manager(user_db=Depends(get_user_db)):
    yield UserManager(user_db)


def get_jwt_strategy() -> JWTStrategy:
    return JWTStrategy(secret=SECRET, lifetime_seconds=3600)


bearer = AuthenticationBackend(
    name="jwt",
    transport=BearerTransport(tokenUrl="auth/jwt/login"),
    get_strategy=get_jwt_strategy,
)
cookie = AuthenticationBackend(
    name="cookie",
    transport=CookieTransport(cookie_max_age=3600, cookie_secure=False),
    get_strategy=get_jwt_strategy,
)
fastapi_users = FastAPIUsers[User, uuid.UUID](get_user_manager, [bearer, cookie])
current_active_user = fastapi_users.current_user(active=True)

app = FastAPI()
app.include_router(fastapi_users.get_auth_router(bearer), prefix="/auth/jwt")
app.include_router(fastapi_users.get_auth_router(cookie), prefix="/auth/cookie")
app.include_router(fastapi_users.get_register_router(UserRead, UserCreate), prefix="/auth")
app.include_router(fastapi_users.get_users_router(UserRead, UserUpdate), prefix="/users")


@app.get("/health")
async def health():
    return {"status": "ok"}


@app.get("/protected")
async def protected(user: User = Depends(current_active_user)):
    return {"email": user.email}
