"""Client certificates of MTLS apps: what registration accepts and stores, each refusal (nothing
written), the per-app limit, global uniqueness, removal, audit events and change tags; MTLS and
certificate-bound token settings on apps and products."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from accessplane.db import changes
from accessplane.errors import Forbidden, InputError, NotFound, UserErrorCode
from accessplane.models import (
    AccessProfile,
    AccessProfileCertificate,
    AuditEvent,
    AuthMethod,
)
from accessplane.services import access_profiles, access_requests, certificates
from accessplane.services.access_profiles import TokenSettings
from tests.support.certificates import (
    GARBAGE_PEM,
    NOT_PEM,
    CertificateAuthority,
    expired_certificate,
    mtls_app,
    not_yet_valid_certificate,
    register,
    unknown_ca_certificate,
)
from tests.support.scenario import Scenario, World

ISSUER = "https://idp.example.com"


@pytest.fixture(scope="module")
def ca() -> CertificateAuthority:
    return CertificateAuthority.create()


class Tags:
    """The change tags of every committed transaction (what the decision caches are told)."""

    def __init__(self) -> None:
        self.committed: list[frozenset[str]] = []

    def before_commit(self, connection: Connection, tags: frozenset[str]) -> None:
        pass

    def after_commit(self, tags: frozenset[str]) -> None:
        self.committed.append(tags)

    @property
    def all(self) -> set[str]:
        return {tag for tags in self.committed for tag in tags}


@pytest.fixture
def tags(engine: AsyncEngine) -> Tags:
    listener = Tags()
    changes.subscribe(engine.sync_engine, listener)
    return listener


async def rows(session: AsyncSession) -> list[AccessProfileCertificate]:
    found = (
        await session.scalars(
            select(AccessProfileCertificate).execution_options(populate_existing=True)
        )
    ).all()
    await session.commit()
    return list(found)


async def add(scenario: Scenario, world: World, app: AccessProfile, pem: str) -> None:
    await certificates.add_access_profile_certificate(
        session=scenario.session,
        actor=world.owner.principal,
        access_profile_id=app.id,
        pem=pem,
    )


def refusal(error: pytest.ExceptionInfo[InputError]) -> tuple[str | None, str, UserErrorCode]:
    [only] = error.value.errors
    return only.field, only.message, only.code


# --- parsing --------------------------------------------------------------------------------


def test_a_certificate_is_read_into_what_is_stored(ca: CertificateAuthority) -> None:
    issued = ca.issue("orders.partner.example")
    pasted = f"Subject: orders\n{issued.pem}\n\n"  # text around the PEM, as some tools print

    parsed = certificates.parse_certificate(pasted, now=datetime.now(UTC))

    assert parsed.fingerprint == issued.fingerprint
    assert len(parsed.fingerprint) == 64
    assert parsed.fingerprint == parsed.fingerprint.lower()
    assert parsed.subject == "CN=orders.partner.example,O=AccessPlane Tests"
    assert parsed.issuer == "CN=AccessPlane Test CA,O=AccessPlane Tests"
    assert parsed.serial_number == issued.serial_hex
    assert parsed.not_before == issued.certificate.not_valid_before_utc
    assert parsed.not_after == issued.certificate.not_valid_after_utc
    assert parsed.pem == issued.pem  # the certificate alone, re-encoded


@pytest.mark.parametrize(
    ("make", "expected", "code"),
    [
        (lambda ca: "  ", "Paste the app's client certificate", UserErrorCode.REQUIRED),
        (lambda ca: NOT_PEM, "not a PEM certificate", UserErrorCode.INVALID),
        (lambda ca: GARBAGE_PEM, "not a valid X.509 certificate", UserErrorCode.INVALID),
        (lambda ca: ca.issue().key_pem, "holds a private key; nothing was stored", None),
        (lambda ca: ca.issue().pem_with_key, "holds a private key; nothing was stored", None),
        (lambda ca: ca.issue().pem + ca.pem, "One certificate at a time: the input holds 2", None),
        (lambda ca: expired_certificate(ca).pem, "The certificate expired on", None),
        (lambda ca: not_yet_valid_certificate(ca).pem, "not valid yet", None),
        (lambda ca: ca.pem, "This is a CA certificate", None),
        (lambda ca: ca.issue("sub-ca", ca=True).pem, "This is a CA certificate", None),
        (
            lambda ca: ca.issue("server", server_names=("api.example.com",)).pem,
            "not for client authentication",
            None,
        ),
        (
            lambda ca: ca.issue().pem + "x" * (16 * 1024),
            "at most 16 KB",
            UserErrorCode.TOO_LONG,
        ),
    ],
    ids=[
        "empty",
        "not-pem",
        "garbage",
        "key-alone",
        "certificate-with-key",
        "chain",
        "expired",
        "not-yet-valid",
        "ca",
        "intermediate-ca",
        "server-certificate",
        "too-large",
    ],
)
def test_what_is_not_one_valid_client_certificate_is_refused_on_pem(
    ca: CertificateAuthority, make, expected: str, code: UserErrorCode | None
) -> None:
    with pytest.raises(InputError) as error:
        certificates.parse_certificate(make(ca), now=datetime.now(UTC))

    field, message, found = refusal(error)
    assert field == "pem"
    assert expected in message
    assert found == (code or UserErrorCode.INVALID)


# --- adding ---------------------------------------------------------------------------------


async def test_a_certificate_is_registered_audited_and_tagged(
    session, scenario: Scenario, ca: CertificateAuthority, tags: Tags
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    version = app.version
    issued = ca.issue("orders")

    added = await register(scenario, world, app, issued)

    [row] = await rows(session)
    assert row.id == added.id
    assert (row.access_profile_id, row.workspace_id) == (app.id, world.workspace.id)
    assert row.fingerprint == issued.fingerprint
    assert row.pem == issued.pem
    assert "PRIVATE" not in row.pem
    assert (await scenario.profile(app.id)).version == version + 1  # type: ignore[union-attr]
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "addAccessProfileCertificate")
    )
    assert event is not None
    assert (event.target_type, event.target_id) == ("AccessProfileCertificate", added.id)
    assert event.after["fingerprint"] == issued.fingerprint
    assert event.after["accessProfileId"] == str(app.id)
    assert f"access_profile:{app.id}" in tags.committed[-1]
    assert changes.certificate(issued.fingerprint) in tags.committed[-1]


async def test_a_private_key_is_neither_stored_nor_logged(
    session, scenario: Scenario, ca: CertificateAuthority, caplog
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    issued = ca.issue("leaky")
    caplog.set_level(logging.DEBUG)

    with pytest.raises(InputError) as error:
        await add(scenario, world, app, issued.pem_with_key)

    assert "private key" in refusal(error)[1]
    assert await rows(session) == []
    secret_line = issued.key_pem.splitlines()[1]
    assert all(secret_line not in record.getMessage() for record in caplog.records)


async def test_only_mtls_apps_take_certificates(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    app = await scenario.app(world, await scenario.client(world))  # AUTH_TOKEN

    with pytest.raises(InputError) as error:
        await add(scenario, world, app.access_profile, ca.issue().pem)

    assert refusal(error)[:2] == (
        "access_profile_id",
        "Certificates are registered to MTLS apps; this app uses AUTH_TOKEN.",
    )
    assert await rows(session) == []


async def test_a_certificate_identifies_one_app_without_naming_the_other(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    home, other = await scenario.workspace(), await scenario.workspace()
    mine, theirs = await mtls_app(scenario, home), await mtls_app(scenario, other)
    issued = ca.issue("shared")
    await register(scenario, other, theirs, issued)

    with pytest.raises(InputError) as elsewhere:
        await add(scenario, home, mine, issued.pem)
    await register(scenario, home, mine, ca.issue("own"))
    with pytest.raises(InputError) as again:
        await add(scenario, other, theirs, issued.pem)

    field, message, code = refusal(elsewhere)
    assert (field, code) == ("pem", UserErrorCode.DUPLICATE)
    assert message == (
        "This certificate is already registered to another app; a certificate identifies one app."
    )
    assert other.workspace.name not in message
    assert theirs.name not in message
    assert "already registered to this app" in refusal(again)[1]
    assert len(await rows(session)) == 2


async def test_an_app_holds_at_most_ten_certificates(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    for i in range(certificates.MAX_CERTIFICATES_PER_APP):
        await register(scenario, world, app, ca.issue(f"c{i}"))

    with pytest.raises(InputError) as error:
        await add(scenario, world, app, ca.issue("eleventh").pem)

    assert refusal(error)[1] == "An app holds at most 10 certificates; remove one first."
    assert len(await rows(session)) == 10


async def test_registering_needs_manage_clients_and_the_apps_workspace(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    client = await scenario.client(world)
    app = await mtls_app(scenario, world, client)
    consumer = await scenario.consumer(world, client)  # sees the app, may not change it

    with pytest.raises(Forbidden):
        await certificates.add_access_profile_certificate(
            session=session,
            actor=consumer.principal,
            access_profile_id=app.id,
            pem=ca.issue().pem,
        )
    with pytest.raises(NotFound):
        await certificates.add_access_profile_certificate(
            session=session,
            actor=other.owner.principal,
            access_profile_id=app.id,
            pem=ca.issue().pem,
        )
    assert await rows(session) == []


# --- removing -------------------------------------------------------------------------------


async def test_removing_a_certificate_deletes_it_and_tags_its_app_and_fingerprint(
    session, scenario: Scenario, ca: CertificateAuthority, tags: Tags
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    issued = ca.issue("leaving")
    added = await register(scenario, world, app, issued)

    await certificates.remove_access_profile_certificate(
        session=session, actor=world.owner.principal, certificate_id=added.id
    )

    assert await rows(session) == []
    assert {f"access_profile:{app.id}", changes.certificate(issued.fingerprint)} <= set(
        tags.committed[-1]
    )
    event = await session.scalar(
        select(AuditEvent).where(AuditEvent.action == "removeAccessProfileCertificate")
    )
    assert event is not None
    assert event.before["fingerprint"] == issued.fingerprint
    # Registered again afterwards: the fingerprint is free.
    await register(scenario, world, app, issued)


async def test_removing_another_workspaces_certificate_is_not_found(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world, other = await scenario.workspace(), await scenario.workspace()
    added = await register(scenario, world, await mtls_app(scenario, world), ca.issue())

    with pytest.raises(NotFound):
        await certificates.remove_access_profile_certificate(
            session=session, actor=other.owner.principal, certificate_id=added.id
        )

    assert len(await rows(session)) == 1


async def test_deleting_the_app_deletes_its_certificates(
    session, scenario: Scenario, ca: CertificateAuthority
) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    await register(scenario, world, app, ca.issue())

    await access_profiles.delete_access_profile(
        session=session, actor=world.owner.principal, access_profile_id=app.id
    )

    assert await rows(session) == []
    assert await session.scalar(select(func.count()).select_from(AccessProfileCertificate)) == 0


# --- MTLS and certificate-bound token settings ----------------------------------------------


async def test_an_mtls_app_takes_no_token_settings(scenario: Scenario) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)

    with pytest.raises(InputError) as error:
        await access_profiles.create_access_profile(
            session=scenario.session,
            actor=world.owner.principal,
            secret=scenario.secret,
            client_id=client.id,
            name="Certified",
            auth_method=AuthMethod.MTLS,
            token=TokenSettings(trusted_issuer=ISSUER, certificate_bound=True),
        )

    found = {(e.field, e.message) for e in error.value.errors}
    assert found == {
        (
            "trusted_issuer",
            "trustedIssuer, audience, clientId and requiredScopes are for the token methods "
            "(OAUTH2, JWT, OIDC), not MTLS.",
        ),
        (
            "certificate_bound_tokens",
            "certificateBoundTokens is for the token methods (OAUTH2, JWT, OIDC), not MTLS.",
        ),
    }


async def test_an_mtls_app_has_no_token(scenario: Scenario) -> None:
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)

    stored = await scenario.profile(app.id)

    assert stored is not None
    assert (stored.auth_method, stored.token_digest, stored.token_hint) == (
        AuthMethod.MTLS,
        None,
        "",
    )


async def test_token_apps_may_require_certificate_bound_tokens(scenario: Scenario) -> None:
    world = await scenario.workspace()
    issued = await access_profiles.create_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        secret=scenario.secret,
        client_id=(await scenario.client(world)).id,
        name="Bound",
        auth_method=AuthMethod.JWT,
        token=TokenSettings(trusted_issuer=ISSUER, certificate_bound=True),
    )
    assert issued.access_profile.certificate_bound_tokens is True

    updated = await access_profiles.update_access_profile(
        session=scenario.session,
        actor=world.owner.principal,
        access_profile_id=issued.access_profile.id,
        certificate_bound_tokens=False,
    )

    assert updated.certificate_bound_tokens is False
    assert updated.trusted_issuer == ISSUER


async def test_an_auth_token_app_cannot_require_bound_tokens(scenario: Scenario) -> None:
    world = await scenario.workspace()
    app = await scenario.app(world, await scenario.client(world))

    with pytest.raises(InputError) as error:
        await access_profiles.update_access_profile(
            session=scenario.session,
            actor=world.owner.principal,
            access_profile_id=app.access_profile.id,
            certificate_bound_tokens=True,
        )

    assert refusal(error)[0] == "certificate_bound_tokens"


async def test_an_mtls_product_goes_to_mtls_apps_only(scenario: Scenario) -> None:
    world = await scenario.workspace()
    product = await scenario.product(world, auth_method=AuthMethod.MTLS)
    client = await scenario.client(world)

    app = await mtls_app(scenario, world, client, products=[product])
    with pytest.raises(InputError) as error:
        await scenario.app(world, client, products=[product])

    assert app.auth_method is AuthMethod.MTLS
    assert refusal(error)[1] == "The products use MTLS, but the app uses AUTH_TOKEN."


async def test_the_certificates_own_clock_decides_validity(
    scenario: Scenario, ca: CertificateAuthority
) -> None:
    """Registration judges validity at the moment of the call (``now``), not the caller's."""
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    later = datetime.now(UTC) + timedelta(days=120)  # past the default 90 days

    with pytest.raises(InputError) as error:
        await certificates.add_access_profile_certificate(
            session=scenario.session,
            actor=world.owner.principal,
            access_profile_id=app.id,
            pem=ca.issue("soon").pem,
            now=later,
        )

    assert "expired" in refusal(error)[1]


def test_an_unknown_cas_certificate_is_accepted_the_gateway_decides_trust() -> None:
    """Trust in the issuing CA is the gateway's (it verifies the chain); the registration
    pins the exact certificate."""
    issued = unknown_ca_certificate()

    parsed = certificates.parse_certificate(issued.pem, now=datetime.now(UTC))

    assert parsed.fingerprint == issued.fingerprint


async def test_a_request_for_mtls_products_creates_an_mtls_app_without_a_token(
    scenario: Scenario,
) -> None:
    world = await scenario.workspace()
    client = await scenario.client(world)
    consumer = await scenario.consumer(world, client)
    product = await scenario.product(world, auth_method=AuthMethod.MTLS)
    plan = await scenario.plan(world)

    submitted = await access_requests.submit_access_request(
        session=scenario.session,
        actor=consumer.principal,
        secret=scenario.secret,
        product_ids=[product.id],
        plan_id=plan.id,
        new_access_profile=access_requests.NewAccessProfile(client_id=client.id, name="Edge"),
    )

    app = await scenario.profile(submitted.access_request.access_profile_id)
    assert submitted.token is None
    assert app is not None
    assert (app.auth_method, app.token_digest) == (AuthMethod.MTLS, None)


async def test_concurrent_additions_never_pass_the_limit(
    engine: AsyncEngine,
    database_url: str,
    session,
    scenario: Scenario,
    ca: CertificateAuthority,
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite serialises writers; real concurrency is tested on PostgreSQL")
    world = await scenario.workspace()
    app = await mtls_app(scenario, world)
    for i in range(certificates.MAX_CERTIFICATES_PER_APP - 1):
        await register(scenario, world, app, ca.issue(f"c{i}"))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    pems = [ca.issue(f"racer{i}").pem for i in range(6)]

    async def attempt(pem: str) -> str:
        async with sessions() as own:
            try:
                await certificates.add_access_profile_certificate(
                    session=own, actor=world.owner.principal, access_profile_id=app.id, pem=pem
                )
            except InputError as error:
                return error.errors[0].code.value
            return "added"

    results = await asyncio.gather(*(attempt(pem) for pem in pems))

    assert results.count("added") == 1
    assert set(results) - {"added"} <= {"CONFLICT", "INVALID"}  # lost the race, or full
    assert len(await rows(session)) == certificates.MAX_CERTIFICATES_PER_APP
