from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('common', '0003_rechain_audit_events'),
    ]

    operations = [
        migrations.CreateModel(
            name='ThrottleCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=128, unique=True)),
                ('count', models.PositiveIntegerField(default=0)),
                ('window_ends_at', models.DateTimeField(db_index=True)),
            ],
        ),
    ]
