def test_health_answers_ok(client):
    assert client.get("/healthz").json()["status"] == "ok"
