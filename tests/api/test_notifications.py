"""Notification settings over GraphQL: what each kind's subject falls back to, and the
variables its templates may use, so a client can explain a subject without reading the docs."""

from __future__ import annotations

from jinja2 import Environment, meta

READ = """
query Read($id: ID!) {
  workspace(id: $id) {
    notificationSettings { subjects { kind subject isDefault defaultSubject variables } }
  }
}
"""
SET = """
mutation Set($input: UpdateNotificationSettingsInput!) {
  updateNotificationSettings(input: $input) {
    notificationSettings { subjects { kind subject isDefault defaultSubject } }
    userErrors { field message code }
  }
}
"""


async def test_each_subject_names_its_default_and_its_variables(graphql, scenario) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)

    read = (await owner.execute(READ, id=world.id)).ok()

    subjects = {s["kind"]: s for s in read["workspace"]["notificationSettings"]["subjects"]}
    assert set(subjects) == {
        "ACCESS_REQUESTED",
        "APPROVE",
        "REJECT",
        "EXPIRING",
        "EXPIRED",
        "INVITE",
        "CERTIFICATE_EXPIRING",
        "CERTIFICATE_EXPIRED",
        "ALERT",
    }
    assert subjects["EXPIRING"]["variables"] == [
        "days_left",
        "expires_at",
        "key_name",
        "workspace_name",
    ]
    assert "app_name" in subjects["APPROVE"]["variables"]
    for subject in subjects.values():
        assert subject["isDefault"] is True
        assert subject["defaultSubject"] == subject["subject"]
        # The default template uses only variables the list names.
        used = meta.find_undeclared_variables(Environment().parse(subject["defaultSubject"]))
        assert used <= set(subject["variables"]), subject["kind"]


async def test_a_set_subject_keeps_its_default_in_view(graphql, scenario) -> None:
    world = await scenario.workspace()
    owner = graphql.as_principal(world.owner.principal)

    payload = (
        await owner.execute(
            SET,
            input={
                "workspaceId": world.id,
                "subjects": [{"kind": "EXPIRED", "subject": "[Acme] {{ key_name }} expired"}],
            },
        )
    ).payload("updateNotificationSettings")

    expired = next(s for s in payload["notificationSettings"]["subjects"] if s["kind"] == "EXPIRED")
    assert expired["subject"] == "[Acme] {{ key_name }} expired"
    assert expired["isDefault"] is False
    assert expired["defaultSubject"] == 'API key "{{ key_name }}" has expired'
