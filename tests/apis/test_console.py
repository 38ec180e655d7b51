"""The console helpers: log file names that do not collide."""
from mmrazor_ext.apis import console


def test_log_names_of_one_second_do_not_collide(tmp_path, monkeypatch):
    monkeypatch.setattr(console.time, 'strftime',
                        lambda *args: '20261205_175430')
    assert console.unique_timestamp(str(tmp_path)) == '20261205_175430'
    (tmp_path / '20261205_175430.log').write_text('run A')
    assert console.unique_timestamp(str(tmp_path)) == '20261205_175430_2'
    (tmp_path / '20261205_175430_2.log.json').write_text('run B')
    assert console.unique_timestamp(str(tmp_path)) == '20261205_175430_3'
