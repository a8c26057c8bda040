from tests.dmp.support import PATIENT, rekey, vihf


def test_td02(post, now, pki, creds, tenant):
    token = vihf(now)
    r = post("patients", rekey("TD0.2_-_Test_d_existence_requete.xml", token), tenant)
    print(r.status_code, r.text)
    assert r.status_code == 200
